import asyncpg
import httpx
from fastapi import Depends, FastAPI

from shared.auth import Workspace, WorkspaceRepository, hash_key, workspace_from_path
from shared.errors import install_error_handlers
from shared.migrations import apply_migrations
from tests.fixtures.resources import WorkspaceFactory


async def test_migrations_are_recorded_and_applied_once(pool: asyncpg.Pool) -> None:
    assert await apply_migrations(pool) == []  # already applied by the fixture
    names = [r["name"] for r in await pool.fetch("SELECT name FROM schema_migrations ORDER BY version")]
    assert names[0] == "0001_core.sql"
    tables = {r["tablename"] for r in await pool.fetch("SELECT tablename FROM pg_tables WHERE schemaname='public'")}
    assert {"workspaces", "api_keys", "outbox"} <= tables


async def test_keys_are_stored_hashed_and_resolve_to_their_workspace(
        pool: asyncpg.Pool, make_workspace: WorkspaceFactory) -> None:
    ws, key = await make_workspace()
    row = await pool.fetchrow("SELECT key_hash, key_prefix FROM api_keys WHERE workspace_id = $1::uuid", ws.id)
    assert bytes(row["key_hash"]) == hash_key(key) and key.encode() not in bytes(row["key_hash"])
    assert len(row["key_prefix"]) == 8 and key.startswith(row["key_prefix"])
    async with pool.acquire() as conn:
        repo = WorkspaceRepository(conn)
        assert (await repo.by_key(key)) == ws
        assert await repo.by_key(key + "x") is None
        assert await repo.revoke_key(key)
        assert await repo.by_key(key) is None


def _app(pool: asyncpg.Pool) -> FastAPI:
    app = FastAPI()
    app.state.pool = pool
    install_error_handlers(app)

    @app.get("/{workspace}/things")
    async def things(ws: Workspace = Depends(workspace_from_path)) -> dict[str, str]:
        return {"workspace": ws.slug}

    return app


async def test_api_keys_open_only_their_own_workspace(pool: asyncpg.Pool, make_workspace: WorkspaceFactory) -> None:
    ws_a, key_a = await make_workspace()
    ws_b, _ = await make_workspace()
    transport = httpx.ASGITransport(app=_app(pool))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        ok = await client.get(f"/{ws_a.slug}/things", params={"api_key": key_a})
        assert ok.status_code == 200 and ok.json() == {"workspace": ws_a.slug}
        bearer = await client.get(f"/{ws_a.slug}/things", headers={"Authorization": f"Bearer {key_a}"})
        assert bearer.status_code == 200
        other = await client.get(f"/{ws_b.slug}/things", params={"api_key": key_a})
        assert other.status_code == 403 and other.json()["error"] == "Forbidden"
        missing = await client.get(f"/{ws_a.slug}/things")
        assert missing.status_code == 401 and "missing API key" in missing.json()["message"]
        wrong = await client.get(f"/{ws_a.slug}/things", params={"api_key": "cvr_nope"})
        assert wrong.status_code == 401 and wrong.json()["error"] == "Unauthorized"
