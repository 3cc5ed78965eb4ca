"""Shared plumbing of the API commands: the API address and key, output as tables or ``--json``, errors."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import httpx
import typer
from rich.console import Console

from conveyor_client.client import ApiError, ConveyorClient

console = Console()
err = Console(stderr=True)
T = TypeVar("T")

ApiKey = typer.Option(None, "--api-key", "-a", help="API key (default: CONVEYOR_API_KEY, ROBOFLOW_API_KEY, or the "
                                                     "local deployment's key)")
ApiUrl = typer.Option(None, "--api-url", help="API base URL (default: API_BASE_URL or the local gateway)")
JsonOut = typer.Option(False, "--json", help="print machine-readable JSON")


def command_group(**options: Any) -> typer.Typer:
    """A group of commands. Help is click's plain layout, not rich's table: at 80 columns the table cut the
    option names themselves (``--workflow-para…``), the one thing a reader of ``--help`` needs whole."""
    return typer.Typer(no_args_is_help=True, rich_markup_mode=None, **options)


def resolve_key(api_key: str | None) -> str:
    key = api_key or os.environ.get("CONVEYOR_API_KEY") or os.environ.get("ROBOFLOW_API_KEY")
    if not key:
        err.print("[red]no API key[/]: pass --api-key, set CONVEYOR_API_KEY, or run 'conveyor up' first")
        raise typer.Exit(2)
    return key


def resolve_url(api_url: str | None) -> str:
    url = api_url or os.environ.get("API_BASE_URL")
    if not url:
        err.print("[red]no API address[/]: pass --api-url, set API_BASE_URL, or run 'conveyor up' first")
        raise typer.Exit(2)
    return url.rstrip("/")


@contextmanager
def api(api_key: str | None, api_url: str | None) -> Iterator[ConveyorClient]:
    """A client; API errors and unreachable servers become one clear line and exit code 1."""
    client = ConveyorClient(resolve_url(api_url), resolve_key(api_key))
    try:
        yield client
    except ApiError as exc:
        err.print(f"[red]Command failed[/]: {exc.message} (HTTP {exc.status})")
        raise typer.Exit(1) from None
    except httpx.TransportError as exc:
        err.print(f"[red]Command failed[/]: cannot reach {client.base_url}: {exc}")
        raise typer.Exit(1) from None
    finally:
        client.close()


def emit(data: Any, as_json: bool, render: Callable[[Any], None]) -> None:
    if as_json:
        typer.echo(json.dumps(data, indent=2, default=str))
    else:
        render(data)
