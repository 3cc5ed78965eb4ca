"""The workspace's API keys, by an admin key: ``/{workspace}/api-keys`` (list, create with a scope, revoke).
A key is shown once, when it is made; the listing gives its first characters, scope, and when it was made,
last used and revoked."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from shared.auth import SCOPES, ApiKey, Workspace, WorkspaceRepository, workspace_from_path
from shared.db import transaction
from shared.errors import InvalidInput, NotFound
from shared.schemas import Camel

keys = APIRouter(prefix="/{workspace}/api-keys", tags=["api-keys"])


class KeyCreate(Camel):
    scope: str = "admin"
    label: str = ""


@keys.get("")
async def list_keys(request: Request, ws: Workspace = Depends(workspace_from_path)) -> dict[str, list[ApiKey]]:
    async with request.app.state.pool.acquire() as conn:
        return {"keys": await WorkspaceRepository(conn).list_keys(ws.id)}


@keys.post("")
async def create_key(request: Request, body: KeyCreate, ws: Workspace = Depends(workspace_from_path)) -> dict:
    """A new key of ``scope`` (read, trigger or admin); the answer is the only time it is shown."""
    if body.scope not in SCOPES:
        raise InvalidInput(f"scope is one of {', '.join(SCOPES)}, not {body.scope!r}")
    async with transaction(request.app.state.pool) as conn:
        repo = WorkspaceRepository(conn)
        key = await repo.add_key(ws.id, label=body.label[:200], scope=body.scope)
        made = next(k for k in await repo.list_keys(ws.id) if k.prefix == key[:8] and k.revoked_at is None)
    return {"key": key, **made.model_dump(mode="json")}


@keys.delete("/{key_id}")
async def revoke_key(request: Request, key_id: str, ws: Workspace = Depends(workspace_from_path)) -> dict:
    async with transaction(request.app.state.pool) as conn:
        if not await WorkspaceRepository(conn).revoke_key_id(ws.id, key_id):
            raise NotFound(f"no active API key {key_id!r} in this workspace")
    return {"status": "ok", "revoked": key_id}
