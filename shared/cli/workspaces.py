"""``conveyor workspace create|add-key|revoke-key``."""

from __future__ import annotations

import asyncio

import typer
from rich.console import Console

from shared.auth import WorkspaceRepository
from shared.cli.common import command_group
from shared.config import PostgresSettings
from shared.db import create_pool
from shared.errors import ServiceError
from shared.migrations import apply_migrations

workspace_app = command_group(help="Workspaces and API keys.")
console = Console(stderr=True)


def _run(action):
    async def go():
        pool = await create_pool(PostgresSettings())
        try:
            await apply_migrations(pool)
            async with pool.acquire() as conn, conn.transaction():
                return await action(WorkspaceRepository(conn))
        finally:
            await pool.close()

    try:
        return asyncio.run(go())
    except ServiceError as exc:
        console.print(f"[red]{exc.message}[/]")
        raise typer.Exit(1) from None


@workspace_app.command("create")
def create(slug: str, name: str = typer.Option("", help="display name")) -> None:
    """Create a workspace and print its first API key (shown only once)."""

    async def action(repo: WorkspaceRepository) -> str:
        ws = await repo.create(slug, name or slug)
        return await repo.add_key(ws.id, label="initial")

    typer.echo(_run(action))


@workspace_app.command("add-key")
def add_key(slug: str, label: str = typer.Option("")) -> None:
    """Create another API key for a workspace."""

    async def action(repo: WorkspaceRepository) -> str:
        ws = await repo.get_by_slug(slug)
        if ws is None:
            raise ServiceError(f"no workspace {slug!r}")
        return await repo.add_key(ws.id, label=label)

    typer.echo(_run(action))


@workspace_app.command("revoke-key")
def revoke_key(key: str) -> None:
    """Revoke an API key."""

    async def action(repo: WorkspaceRepository) -> bool:
        return await repo.revoke_key(key)

    if not _run(action):
        console.print("[red]no such active key[/]")
        raise typer.Exit(1)
    console.print("revoked")
