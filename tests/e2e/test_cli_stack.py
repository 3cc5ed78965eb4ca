import asyncio
import json
import stat
import time
from pathlib import Path

import asyncpg
import httpx

from deploy.local.stack import port_open
from tests.fixtures.cli import conveyor

PORTS = {"CONVEYOR_PORT_BASE": "23000"}


async def _setting(dsn: str, name: str) -> str:
    conn = await asyncpg.connect(dsn, timeout=5)
    try:
        return str(await conn.fetchval(f"SHOW {name}"))
    finally:
        await conn.close()


async def _connect(dsn: str) -> str:
    try:
        conn = await asyncpg.connect(dsn, timeout=5)
    except Exception as exc:
        return str(exc)
    await conn.close()
    return "connected"


def test_stack_up_status_env_down(tmp_path: Path) -> None:
    home = tmp_path / "home"
    started = time.monotonic()
    # CONVEYOR_PG_OPTIONS reaches the server's command line
    up = conveyor("stack", "up", home=home, env={**PORTS, "CONVEYOR_PG_OPTIONS": "-c work_mem=7MB"}, own_stack=True)
    elapsed = time.monotonic() - started
    try:
        assert up.returncode == 0, up.stderr
        assert elapsed < 10, f"stack up took {elapsed:.1f}s"
        # the installation's own password and S3 keys, none published
        creds = json.loads((home / "credentials.json").read_text())
        assert stat.S_IMODE((home / "credentials.json").stat().st_mode) == 0o600
        assert f"export DATABASE_URL=postgresql://postgres:{creds['pg_password']}@127.0.0.1:28432/postgres" \
            in up.stdout
        assert f"export AWS_ACCESS_KEY_ID={creds['s3_access_key']}" in up.stdout
        assert all(port_open(p) for p in (28432, 32092, 31333))
        # what the services do not need is closed: SeaweedFS's filer answers no unsigned request, PostgreSQL
        # no connection without the password
        assert httpx.get("http://127.0.0.1:31888/buckets/staging/", timeout=5).status_code == 401
        refused = asyncio.run(_connect("postgresql://postgres@127.0.0.1:28432/postgres"))
        assert "password" in refused
        dsn = up.stdout.split("export DATABASE_URL=")[1].split()[0]
        assert asyncio.run(_setting(dsn, "work_mem")) == "7MB"

        status = conveyor("stack", "status", home=home, env=PORTS, own_stack=True)
        assert status.returncode == 0, status.stdout + status.stderr
        assert status.stdout.count("True") == 6  # three components, each alive and listening

        again = conveyor("stack", "up", home=home, env=PORTS, own_stack=True)
        assert again.returncode == 0 and "already running" in again.stderr

        env = conveyor("stack", "env", home=home, env=PORTS, own_stack=True)
        assert env.returncode == 0 and "export KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:32092" in env.stdout
        assert "export KAFKA_FETCH_MAX_WAIT_MS=50" in env.stdout  # Tansu answers a fetch when its wait ends
    finally:
        down = conveyor("stack", "down", home=home, env=PORTS, own_stack=True)
    assert down.returncode == 0
    assert not any(port_open(p) for p in (28432, 32092, 31333))
    after = conveyor("stack", "status", home=home, env=PORTS, own_stack=True)
    assert after.returncode == 1


def test_stack_up_reuses_services_named_by_the_environment(tmp_path: Path, stack_env: dict[str, str]) -> None:
    result = conveyor("stack", "up", home=tmp_path)
    assert result.returncode == 0 and "reusing" in result.stderr
    assert not (tmp_path / "pids.json").exists()
