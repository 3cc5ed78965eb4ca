"""``conveyor workspace key create|list|revoke``: a workspace's API keys, through the API (with an admin key of
the workspace). The operators' commands on the database (``workspace create|add-key|revoke-key``) are added to
this group by deploy/admin.py."""

from __future__ import annotations

import typer
from rich.table import Table

from conveyor_client.common import ApiKey, ApiUrl, JsonOut, api, command_group, emit
from conveyor_client.common import console as stdout

workspace_app = command_group(help="Workspaces and API keys.")
SCOPE_HELP = ("read (listings, downloads), trigger (also stage data and run jobs) or admin (also workflows, models, "
              "keys)")


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
