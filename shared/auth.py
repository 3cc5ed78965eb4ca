"""Workspaces and API keys.

A key maps to one workspace. Keys are random (``cvr_`` + 32 bytes, URL-safe) and only their SHA-256 is
stored, so a database leak does not leak keys. Clients send the key as the ``api_key`` query parameter
(as Roboflow clients do) or as ``Authorization: Bearer <key>``.

A key has a scope, chosen when it is made: ``read`` (listings, details, downloads, event streams), ``trigger``
(also stage data, create, abort and restart jobs, redeliver webhooks) or ``admin`` (also workflows, models,
model aliases, API keys and the webhook signing secret). What a request needs is read from its method and
route in one place, ``required_scope``, for every route of every service.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime

import asyncpg
from fastapi import Depends, Header, Query, Request

from shared.errors import Conflict, Forbidden, InvalidInput, Unauthorized
from shared.ids import validate_workspace_slug
from shared.schemas import Camel

KEY_PREFIX = "cvr_"
SCOPES = ("read", "trigger", "admin")  # each allows what the ones before it do
# routes of the workspace's own setup, whatever their method: the secret that signs its webhooks, its keys
_ADMIN_ROUTES = ("/signing-secret", "/api-keys")
_READ_METHODS = ("GET", "HEAD", "OPTIONS")


@dataclass(frozen=True)
class Workspace:
    id: str
    slug: str
    name: str
    scope: str = "admin"  # of the key the request came with


def required_scope(method: str, route: str) -> str:
    """The scope a request needs, from its method and its route's path template: reading is ``read``;
    changing the workspace's setup (``/{workspace}/...``: workflows, models, aliases, keys) and anything of
    the signing secret or the keys is ``admin``; any other change (staging, jobs, redeliveries) ``trigger``."""
    if any(part in route for part in _ADMIN_ROUTES):
        return "admin"
    if method.upper() in _READ_METHODS:
        return "read"
    return "admin" if route.startswith("/{workspace}/") else "trigger"


def allows(scope: str, needed: str) -> bool:
    return SCOPES.index(scope) >= SCOPES.index(needed)


class ApiKey(Camel):
    """A key as its workspace's admins see it (the key itself is shown once, when it is made)."""

    key_id: str
    prefix: str
    label: str
    scope: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


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

    async def add_key(self, workspace_id: str, label: str = "", key: str | None = None,
                      scope: str = "admin") -> str:
        """Create a key (or register a given one); returns it in clear text, the only time it is seen."""
        if scope not in SCOPES:
            raise InvalidInput(f"scope is one of {', '.join(SCOPES)}, not {scope!r}")
        key = key or generate_key()
        await self.conn.execute(
            "INSERT INTO api_keys (id, workspace_id, key_hash, key_prefix, label, scope)"
            " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (key_hash) DO NOTHING",
            uuid.uuid4(), uuid.UUID(workspace_id), hash_key(key), key[:8], label, scope,
        )
        return key

    async def list_keys(self, workspace_id: str) -> list[ApiKey]:
        rows = await self.conn.fetch(
            "SELECT id, key_prefix, label, scope, created_at, last_used_at, revoked_at FROM api_keys"
            " WHERE workspace_id = $1 ORDER BY created_at, id", uuid.UUID(workspace_id))
        return [ApiKey(key_id=str(r["id"]), prefix=r["key_prefix"], label=r["label"], scope=r["scope"],
                       created_at=r["created_at"], last_used_at=r["last_used_at"], revoked_at=r["revoked_at"])
                for r in rows]

    async def revoke_key_id(self, workspace_id: str, key_id: str) -> bool:
        try:
            ident = uuid.UUID(key_id)
        except ValueError:
            return False
        result = await self.conn.execute(
            "UPDATE api_keys SET revoked_at = now() WHERE workspace_id = $1 AND id = $2 AND revoked_at IS NULL",
            uuid.UUID(workspace_id), ident)
        return result.endswith(" 1")

    async def revoke_key(self, key: str) -> bool:
        result = await self.conn.execute(
            "UPDATE api_keys SET revoked_at = now() WHERE key_hash = $1 AND revoked_at IS NULL", hash_key(key)
        )
        return result.endswith(" 1")

    async def by_key(self, key: str) -> Workspace | None:
        """The workspace a key opens, with the key's scope; its last use noted (to the minute)."""
        row = await self.conn.fetchrow(
            "SELECT w.id, w.slug, w.name, k.scope, k.last_used_at > now() - interval '1 minute' AS fresh"
            " FROM api_keys k JOIN workspaces w ON w.id = k.workspace_id WHERE k.key_hash = $1"
            " AND k.revoked_at IS NULL", hash_key(key),
        )
        if row is None:
            return None
        if not row["fresh"]:
            await self.conn.execute("UPDATE api_keys SET last_used_at = now() WHERE key_hash = $1", hash_key(key))
        return Workspace(id=str(row["id"]), slug=row["slug"], name=row["name"], scope=row["scope"])


def _workspace(row: asyncpg.Record) -> Workspace:
    return Workspace(id=str(row["id"]), slug=row["slug"], name=row["name"])


async def ensure_workspace(conn: asyncpg.Connection, slug: str, api_key: str | None = None) -> tuple[Workspace, str]:
    """Get or create workspace ``slug`` and make sure ``api_key`` (or a new key) opens it."""
    repo = WorkspaceRepository(conn)
    ws = await repo.get_by_slug(slug) or await repo.create(slug, slug)
    key = await repo.add_key(ws.id, label="bootstrap", key=api_key)
    return ws, key


def request_key(api_key: str | None, authorization: str | None) -> str | None:
    """The API key a request came with: ``?api_key=``, else an ``Authorization: Bearer`` header."""
    if api_key:
        return api_key
    if authorization and authorization.lower().startswith("bearer "):
        return authorization[7:].strip() or None
    return None


async def current_workspace(
    request: Request,
    api_key: str | None = Query(None, description="API key (Roboflow clients send it here)"),
    authorization: str | None = Header(None),
) -> Workspace:
    """FastAPI dependency: the workspace the request's API key opens (401 if none)."""
    key = request_key(api_key, authorization)
    if not key:
        raise Unauthorized("missing API key: pass ?api_key=... or an 'Authorization: Bearer' header")
    async with request.app.state.pool.acquire() as conn:
        ws = await WorkspaceRepository(conn).by_key(key)
    if ws is None:
        raise Unauthorized("invalid or revoked API key")
    route = getattr(request.scope.get("route"), "path", request.url.path)
    needed = required_scope(request.method, route)
    if not allows(ws.scope, needed):
        raise Forbidden(f"this API key's scope is {ws.scope!r}; {request.method} {route} needs {needed!r} "
                        f"(make one with conveyor workspace key create --scope {needed})")
    return ws


async def workspace_from_path(workspace: str, ws: Workspace = Depends(current_workspace)) -> Workspace:
    """FastAPI dependency for ``/{workspace}/...`` routes: the key must belong to that workspace (403)."""
    if workspace != ws.slug:
        raise Forbidden(f"this API key does not grant access to workspace {workspace!r}")
    return ws
