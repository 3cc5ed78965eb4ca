"""Workspaces and API keys.

A key maps to one workspace. Keys are random (``cvr_`` + 32 bytes, URL-safe) and only their SHA-256 is
stored, so a database leak does not leak keys. Clients send the key as the ``api_key`` query parameter
(as Roboflow clients do) or as ``Authorization: Bearer <key>``.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass

import asyncpg
from fastapi import Depends, Header, Query, Request

from shared.errors import Conflict, Forbidden, Unauthorized
from shared.ids import validate_workspace_slug

KEY_PREFIX = "cvr_"


@dataclass(frozen=True)
class Workspace:
    id: str
    slug: str
    name: str


def hash_key(key: str) -> bytes:
    return hashlib.sha256(key.encode()).digest()


def generate_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


class WorkspaceRepository:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn

    async def create(self, slug: str, name: str) -> Workspace:
        validate_workspace_slug(slug)
        ws = Workspace(id=str(uuid.uuid4()), slug=slug, name=name)
        try:
            await self.conn.execute("INSERT INTO workspaces (id, slug, name) VALUES ($1, $2, $3)",
                                    uuid.UUID(ws.id), ws.slug, ws.name)
        except asyncpg.UniqueViolationError:
            raise Conflict(f"workspace {slug!r} already exists") from None
        return ws

    async def get_by_slug(self, slug: str) -> Workspace | None:
        row = await self.conn.fetchrow("SELECT id, slug, name FROM workspaces WHERE slug = $1", slug)
        return _workspace(row) if row else None

    async def add_key(self, workspace_id: str, label: str = "", key: str | None = None) -> str:
        """Create a key (or register a given one); returns it in clear text, the only time it is seen."""
        key = key or generate_key()
        await self.conn.execute(
            "INSERT INTO api_keys (id, workspace_id, key_hash, key_prefix, label) VALUES ($1, $2, $3, $4, $5)"
            " ON CONFLICT (key_hash) DO NOTHING",
            uuid.uuid4(), uuid.UUID(workspace_id), hash_key(key), key[:8], label,
        )
        return key

    async def revoke_key(self, key: str) -> bool:
        result = await self.conn.execute(
            "UPDATE api_keys SET revoked_at = now() WHERE key_hash = $1 AND revoked_at IS NULL", hash_key(key)
        )
        return result.endswith(" 1")

    async def by_key(self, key: str) -> Workspace | None:
        row = await self.conn.fetchrow(
            "SELECT w.id, w.slug, w.name FROM api_keys k JOIN workspaces w"
            " ON w.id = k.workspace_id WHERE k.key_hash = $1 AND k.revoked_at IS NULL",
            hash_key(key),
        )
        return _workspace(row) if row else None


def _workspace(row: asyncpg.Record) -> Workspace:
    return Workspace(id=str(row["id"]), slug=row["slug"], name=row["name"])


async def ensure_workspace(conn: asyncpg.Connection, slug: str, api_key: str | None = None) -> tuple[Workspace, str]:
    """Get or create workspace ``slug`` and make sure ``api_key`` (or a new key) opens it."""
    repo = WorkspaceRepository(conn)
    ws = await repo.get_by_slug(slug) or await repo.create(slug, slug)
    key = await repo.add_key(ws.id, label="bootstrap", key=api_key)
    return ws, key


async def current_workspace(
    request: Request,
    api_key: str | None = Query(None, description="API key (Roboflow clients send it here)"),
    authorization: str | None = Header(None),
) -> Workspace:
    """FastAPI dependency: the workspace the request's API key opens (401 if none)."""
    key = api_key
    if not key and authorization and authorization.lower().startswith("bearer "):
        key = authorization[7:].strip()
    if not key:
        raise Unauthorized("missing API key: pass ?api_key=... or an 'Authorization: Bearer' header")
    async with request.app.state.pool.acquire() as conn:
        ws = await WorkspaceRepository(conn).by_key(key)
    if ws is None:
        raise Unauthorized("invalid or revoked API key")
    return ws


async def workspace_from_path(workspace: str, ws: Workspace = Depends(current_workspace)) -> Workspace:
    """FastAPI dependency for ``/{workspace}/...`` routes: the key must belong to that workspace (403)."""
    if workspace != ws.slug:
        raise Forbidden(f"this API key does not grant access to workspace {workspace!r}")
    return ws
