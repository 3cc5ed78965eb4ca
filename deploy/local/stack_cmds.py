"""``conveyor stack up|down|status|env``: the local Kafka/S3/PostgreSQL stack."""

from __future__ import annotations

import os
import time

import typer
from rich.console import Console
from rich.table import Table

from conveyor_client.common import command_group
from deploy.local.home import STACK_VARS, home, local_stack, stack_from_environment
from deploy.local.stack import StackError, port_open

stack_app = command_group(help="The local stack: Tansu (Kafka API), SeaweedFS (S3), PostgreSQL.")
console = Console(stderr=True)


@stack_app.command("up")
def stack_up(kafka_storage: str = typer.Option("s3", help="memory (fast, volatile) or s3 (durable)")) -> None:
    """Start the stack in the background (or check the one named by DATABASE_URL etc.)."""
    if stack_from_environment():
        console.print("[yellow]reusing the services named by " + ", ".join(STACK_VARS) + "[/]")
        return
    stack = local_stack(kafka_storage)
    if stack.recorded_pids() and all(s["alive"] for s in stack.status().values()):
        console.print(f"stack already running in {stack.base}")
        return
    if stack.recorded_pids():
        stack.stop()  # a stale record: some component died
    started = time.monotonic()
    try:
        env = stack.start()
    except StackError as exc:
        console.print(f"[red]stack failed to start:[/] {exc}")
        raise typer.Exit(1) from None
    console.print(f"stack up in {time.monotonic() - started:.1f}s ({stack.base}); env in {stack.base / 'env'}")
    for key, value in env.items():
        typer.echo(f"export {key}={value}")


@stack_app.command("down")
def stack_down() -> None:
    """Stop the stack started by 'stack up' (by recorded PID)."""
    stack = local_stack()
    if not stack.recorded_pids():
        console.print("no stack recorded")
        return
    stack.stop()
    console.print("stack stopped")


@stack_app.command("status")
def stack_status() -> None:
    """Show each component's PID and whether it is listening."""
    stack = local_stack()
    table = Table("component", "pid", "alive", "port", "listening")
    healthy = True
    for name, st in stack.status().items():
        healthy &= bool(st["alive"] and st["listening"])
        table.add_row(name, str(st["pid"] or "-"), str(st["alive"]), str(st["port"]), str(st["listening"]))
    Console().print(table)
    if stack_from_environment():
        for key in STACK_VARS:
            console.print(f"{key}={os.environ[key]}")
        healthy = all(port_open(int(os.environ[k].rsplit(":", 1)[1].split("/")[0])) for k in STACK_VARS)
    raise typer.Exit(0 if healthy else 1)


@stack_app.command("env")
def stack_env() -> None:
    """Print the stack's environment as shell exports (eval "$(conveyor stack env)")."""
    env_file = home() / "env"
    if not env_file.exists():
        console.print("no stack recorded; run 'conveyor stack up'")
        raise typer.Exit(1)
    typer.echo(env_file.read_text(), nl=False)
