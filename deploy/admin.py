"""The operators' commands, on the database that ``DATABASE_URL`` names: make a workspace and print its first API
key, add a key, revoke one. ``python -m deploy.admin workspace create acme`` in any image of the services;
``conveyor workspace create acme`` on this machine. The client's commands come along (``conveyor_client``)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import typer
from rich.console import Console

from conveyor_client import api_commands
from conveyor_client.workspaces import SCOPE_HELP, workspace_app
from shared.auth import WorkspaceRepository
from shared.config import PostgresSettings
from shared.db import create_pool
from shared.errors import ServiceError
from shared.migrations import apply_migrations

console = Console(stderr=True)
T = TypeVar("T")


def _run(action: Callable[[WorkspaceRepository], Awaitable[T]]) -> T:
    async def go() -> T:
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
def add_key(slug: str, label: str = typer.Option(""), scope: str = typer.Option("admin", help=SCOPE_HELP)) -> None:
    """Create another API key for a workspace."""

    async def action(repo: WorkspaceRepository) -> str:
        ws = await repo.get_by_slug(slug)
        if ws is None:
            raise ServiceError(f"no workspace {slug!r}")
        return await repo.add_key(ws.id, label=label, scope=scope)

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


def operator_commands() -> typer.Typer:
    """The client's commands, with the operators' workspace commands in its ``workspace`` group."""
    return api_commands()


if __name__ == "__main__":
    operator_commands()()
