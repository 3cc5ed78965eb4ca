"""``conveyor workspace create|add-key|revoke-key`` (on the database, for operators) and ``conveyor workspace
key create|list|revoke`` (through the API, with an admin key of the workspace)."""

from __future__ import annotations

import asyncio

import typer
from rich.console import Console
from rich.table import Table

from shared.auth import WorkspaceRepository
from shared.cli.common import ApiKey, ApiUrl, JsonOut, api, command_group, emit
from shared.cli.common import console as stdout
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


SCOPE_HELP = ("read (listings, downloads), trigger (also stage data and run jobs) or admin (also workflows, models, "
              "keys)")


@workspace_app.command("add-key")
def add_key(slug: str, label: str = typer.Option(""), scope: str = typer.Option("admin", help=SCOPE_HELP)) -> None:
    """Create another API key for a workspace."""

    async def action(repo: WorkspaceRepository) -> str:
        ws = await repo.get_by_slug(slug)
        if ws is None:
            raise ServiceError(f"no workspace {slug!r}")
        return await repo.add_key(ws.id, label=label, scope=scope)

    typer.echo(_run(action))


key_app = command_group(help="The workspace's API keys, through the API (an admin key).")
workspace_app.add_typer(key_app, name="key")


@key_app.command("create")
def create_key(scope: str = typer.Option(..., "--scope", help=SCOPE_HELP), label: str = typer.Option(""),
               api_key: str | None = ApiKey, api_url: str | None = ApiUrl) -> None:
    """Make a key of a scope; it is printed once, never shown again."""
    with api(api_key, api_url) as client:
        made = client.create_api_key(scope, label)
    typer.echo(made["key"])


@key_app.command("list")
def list_keys(api_key: str | None = ApiKey, api_url: str | None = ApiUrl, as_json: bool = JsonOut) -> None:
    """The workspace's keys: first characters, scope, made, last used, revoked."""
    with api(api_key, api_url) as client:
        found = client.api_keys()

    def render(items: list[dict[str, object]]) -> None:
        table = Table("id", "prefix", "scope", "label", "created", "last used", "revoked")
        for k in items:
            table.add_row(str(k["keyId"]), f"{k['prefix']}...", str(k["scope"]), str(k["label"]),
                          str(k["createdAt"]), str(k.get("lastUsedAt") or ""), str(k.get("revokedAt") or ""))
        stdout.print(table)

    emit(found, as_json, render)


@key_app.command("revoke")
def revoke_key_by_id(key_id: str, api_key: str | None = ApiKey, api_url: str | None = ApiUrl) -> None:
    """Revoke a key by its id (from key list)."""
    with api(api_key, api_url) as client:
        client.revoke_api_key(key_id)
    typer.echo(f"revoked {key_id}")


@workspace_app.command("revoke-key")
def revoke_key(key: str) -> None:
    """Revoke an API key."""

    async def action(repo: WorkspaceRepository) -> bool:
        return await repo.revoke_key(key)

    if not _run(action):
        console.print("[red]no such active key[/]")
        raise typer.Exit(1)
    console.print("revoked")
