"""``conveyor demo``: the README's main command."""

from __future__ import annotations

import time

import httpx
import typer
from rich.console import Console
from rich.table import Table

from shared.cli.processes import bring_up, public_url, stop_services
from shared.cli.home import local_stack

console = Console()


def demo_cmd(
    keep_running: bool = typer.Option(False, help="leave the stack and services running afterwards"),
    workspace: str = typer.Option("local"),
) -> None:
    """Start the local stack and every service, then check the whole deployment end to end."""
    started = time.monotonic()
    started_stack, key, _ = bring_up(workspace, "s3")
    base = public_url()
    try:
        health = httpx.get(f"{base}/healthz", timeout=10).json()
        who = httpx.get(base, params={"api_key": key}, timeout=10).json()
        table = Table("service", "postgres", "kafka", "s3", "status", title="Conveyor health")
        for name, svc in health["services"].items():
            checks = svc.get("checks", {})
            table.add_row(name, checks.get("postgres", "-"), checks.get("kafka", "-"), checks.get("s3", "-"),
                          svc.get("status", "down"))
        console.print(table)
        console.print(f"workspace discovery through the gateway: {who}")
        console.print(f"up and checked in {time.monotonic() - started:.1f}s  API_BASE_URL={base}  api_key={key}")
        if health["status"] != "ok" or who.get("workspace") != workspace:
            raise typer.Exit(1)
    finally:
        if not keep_running:
            stop_services()
            if started_stack:
                local_stack().stop()
