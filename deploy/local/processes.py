"""``conveyor serve``, ``conveyor up`` and ``conveyor down``: service processes behind the gateway."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import typer
from rich.console import Console

from deploy.local.home import export_installation_secrets, home, load_stack_env, local_stack, stack_from_environment
from deploy.local.stack import StackError
from shared.config import DEFAULT_PORTS

console = Console(stderr=True)

SERVICES = ("ingest", "scheduler", "worker", "export", "notifier")


def service_port(name: str) -> int:
    """The port map (``shared.config.DEFAULT_PORTS``) moved by CONVEYOR_SERVICE_PORT_BASE (8100) and, for the
    gateway, CONVEYOR_GATEWAY_PORT (8000); a service's extra processes (``worker-2``, ``worker-3``, ...) listen
    10 apart from its first."""
    if name == "gateway":
        return gateway_port()
    service, _, index = name.partition("-")
    extra = 10 * (int(index) - 1) if index else 0
    base = int(os.environ.get("CONVEYOR_SERVICE_PORT_BASE", "8100"))
    return base + DEFAULT_PORTS[service] - 8100 + extra


SCALABLE = ("ingest", "worker")


def processes_of(service: str) -> int:
    """Processes of ``service`` on this machine: ``CONVEYOR_WORKER_PROCESSES`` / ``CONVEYOR_INGEST_PROCESSES``
    (default 1). One process's event loop only downloads, uploads and post-processes so fast; workers share
    the task topic's partitions and indexers claim shards with SKIP LOCKED. The gateway routes the API to the
    first process of each service."""
    if service not in SCALABLE:
        return 1
    return max(1, int(os.environ.get(f"CONVEYOR_{service.upper()}_PROCESSES", "1")))


def process_names(services: list[str]) -> list[str]:
    names = []
    for service in services:
        names += [service] + [f"{service}-{i}" for i in range(2, processes_of(service) + 1)]
    return names


def gateway_port() -> int:
    return int(os.environ.get("CONVEYOR_GATEWAY_PORT", str(DEFAULT_PORTS["gateway"])))


def public_url() -> str:
    return os.environ.get("CONVEYOR_PUBLIC_URL") or f"http://127.0.0.1:{gateway_port()}"


def process_environment(name: str, host: str = "127.0.0.1", port: int | None = None) -> dict[str, str]:
    """What one local process is started with, beyond this environment: where it listens, where the gateway
    finds the services, the stack's addresses, the installation's secrets."""
    load_stack_env()
    export_installation_secrets()
    service = name.partition("-")[0]
    env = {"CONVEYOR_PUBLIC_URL": os.environ.get("CONVEYOR_PUBLIC_URL") or public_url()}
    if service == "gateway":
        env |= {"CONVEYOR_GATEWAY_HOST": host, "CONVEYOR_GATEWAY_PORT": str(port or gateway_port())}
        env |= {f"CONVEYOR_UPSTREAM_{s.upper()}": os.environ.get(f"CONVEYOR_UPSTREAM_{s.upper()}")
                or f"http://127.0.0.1:{service_port(s)}" for s in SERVICES}
    else:
        env |= {f"{service.upper()}_HOST": host, f"{service.upper()}_PORT": str(port or service_port(name))}
    return env


def entry_point(service: str) -> list[str]:
    """The production command of a service: the same one its image runs."""
    return [sys.executable, "-m", "deploy.gateway" if service == "gateway" else f"{service}_svc"]


def serve_cmd(
    service: str = typer.Argument(..., help="ingest | scheduler | worker | export | notifier | gateway"),
    host: str = typer.Option("127.0.0.1"),
    port: int | None = typer.Option(None, help="default: the service's own port"),
    log_level: str = typer.Option("info", help="JSON lines on stderr (CONVEYOR_LOG_FORMAT=text for plain lines)"),
) -> None:
    """Run one service process in the foreground, on the local stack (its production entry point with this
    installation's addresses and secrets)."""
    if service not in (*SERVICES, "gateway"):
        console.print(f"[red]unknown service {service!r}[/]; choose one of {', '.join([*SERVICES, 'gateway'])}")
        raise typer.Exit(2)
    extra = process_environment(service, host, port)  # first: it exports the installation's secrets
    env = {**os.environ, "CONVEYOR_LOG_LEVEL": log_level, **extra}
    command = entry_point(service)
    os.execve(command[0], command, env)


def _api_key_file() -> Path:
    return home() / "api_key"


def bootstrap_workspace(slug: str) -> str:
    """Make sure workspace ``slug`` exists with the locally recorded key; returns the key."""
    from shared.auth import ensure_workspace
    from shared.config import PostgresSettings
    from shared.db import create_pool
    from shared.migrations import apply_migrations

    key_file = _api_key_file()
    wanted = os.environ.get("CONVEYOR_API_KEY") or (key_file.read_text().strip() if key_file.exists() else None)

    async def run() -> str:
        pool = await create_pool(PostgresSettings())
        try:
            await apply_migrations(pool)
            async with pool.acquire() as conn, conn.transaction():
                _, key = await ensure_workspace(conn, slug, wanted)
            return key
        finally:
            await pool.close()

    key = asyncio.run(run())
    key_file.parent.mkdir(parents=True, exist_ok=True)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key


def wait_healthy(url: str, proc: subprocess.Popen[bytes], name: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited with code {proc.returncode}; see {home() / 'logs' / name}.log "
                               f"and .out")
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{name} not healthy after {timeout:.0f}s; see {home() / 'logs' / name}.log and .out")


def start_services(names: list[str]) -> dict[str, subprocess.Popen[bytes]]:
    (home() / "logs").mkdir(parents=True, exist_ok=True)
    procs: dict[str, subprocess.Popen[bytes]] = {}
    for name in [*process_names(names), "gateway"]:
        # the service writes its log itself, rotating it; what escapes the logging (a crash) goes to .out
        out = open(home() / "logs" / f"{name}.out", "ab")  # noqa: SIM115 - handed to the child
        command = entry_point(name.partition("-")[0])
        extra = process_environment(name)  # first: it exports the installation's secrets
        env = {**os.environ, **extra, "CONVEYOR_LOG_FILE": str(home() / "logs" / f"{name}.log")}
        procs[name] = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                       start_new_session=True, env=env)
    (home() / "services.json").write_text(json.dumps({k: p.pid for k, p in procs.items()}))
    for name, proc in procs.items():
        wait_healthy(f"http://127.0.0.1:{service_port(name)}", proc, name)
    return procs


def stop_services(timeout: float = 15) -> None:
    record = home() / "services.json"
    if not record.exists():
        return
    pids = json.loads(record.read_text())
    for pid in pids.values():
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for pid in pids.values():
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
                if Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z":
                    break
            except (ProcessLookupError, FileNotFoundError):
                break
            time.sleep(0.05)
        else:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    record.unlink(missing_ok=True)


def bring_up(workspace: str, kafka_storage: str) -> tuple[bool, str, dict[str, subprocess.Popen[bytes]]]:
    """Stack (started here unless running or given by the environment), workspace, services, gateway."""
    started_stack = False
    if not stack_from_environment():
        stack = local_stack(kafka_storage)
        if not (stack.recorded_pids() and all(s["alive"] for s in stack.status().values())):
            stack.stop()
            try:
                stack.start()
            except StackError as exc:
                console.print(f"[red]stack failed to start:[/] {exc}")
                raise typer.Exit(1) from None
            started_stack = True
    load_stack_env()
    export_installation_secrets()  # before the services start, so they all read the same secrets
    key = bootstrap_workspace(workspace)
    try:
        procs = start_services(list(SERVICES))
    except RuntimeError as exc:
        stop_services()
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(1) from None
    return started_stack, key, procs


def up_cmd(
    detach: bool = typer.Option(False, "--detach", "-d", help="return once everything is healthy"),
    workspace: str = typer.Option("local", help="workspace created for the local API key"),
    kafka_storage: str = typer.Option("s3", help="memory or s3 (used if the stack is started here)"),
) -> None:
    """Start the stack (unless given by the environment), every service and the gateway."""
    started_stack, key, procs = bring_up(workspace, kafka_storage)
    console.print(f"Conveyor is up: API_BASE_URL={public_url()}  workspace={workspace}")
    console.print(f"API key: {key}  (also in {_api_key_file()})")
    if detach:
        return
    try:
        while all(p.poll() is None for p in procs.values()):
            time.sleep(0.5)
        console.print("[red]a service exited; stopping[/]")
    except KeyboardInterrupt:
        pass
    finally:
        stop_services()
        if started_stack:
            local_stack().stop()


def down_cmd(keep_stack: bool = typer.Option(False, help="stop the services but keep the stack running")) -> None:
    """Stop the services started by 'conveyor up' and (unless --keep-stack) the local stack."""
    stop_services()
    if not keep_stack and not stack_from_environment():
        local_stack().stop()
    console.print("stopped")
