"""Retries that never double a create: a POST or PUT sent with an ``Idempotency-Key`` header is answered once;
the same key with the same request gets that answer again (``Idempotent-Replayed: true``), with another
request a 409, and while the first is still being answered a 409 to retry shortly.

Keys belong to the API key that sent them and are kept ``KEEP_S`` (two days; at least 24 hours, as clients
are told). The request is recorded before it runs and its answer once it has run; a 5xx answer is not kept
(the retry runs again), nor one over ``MAX_KEPT_BODY`` (a create answers a few hundred bytes). A record whose
request never finished (its process died) is taken over by a retry after ``ABANDONED_S``.
"""

from __future__ import annotations

import hashlib
import random
from urllib.parse import parse_qsl, urlencode

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.auth import hash_key, request_key
from shared.db import Pool, Record
from shared.limits import send_error

HEADER = b"idempotency-key"
KEEP_S = 2 * 86400
ABANDONED_S = 300
MAX_KEPT_BODY = 1024 * 1024
_METHODS = ("POST", "PUT")


def _api_key(scope: Scope) -> str | None:
    headers = dict(scope.get("headers") or [])
    return request_key(dict(parse_qsl(scope.get("query_string", b"").decode("latin-1"))).get("api_key"),
                       headers.get(b"authorization", b"").decode("latin-1") or None)


def fingerprint(scope: Scope, body: bytes) -> bytes:
    """What the request asks: method, path, query (the key aside) and body."""
    query = sorted((k, v) for k, v in parse_qsl(scope.get("query_string", b"").decode("latin-1"),
                                                keep_blank_values=True) if k != "api_key")
    head = f"{scope['method']} {scope['path']}?{urlencode(query)}\n".encode()
    return hashlib.sha256(head + body).digest()


class Idempotency:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        idem = dict(scope.get("headers") or []).get(HEADER) if scope["type"] == "http" else None
        api_key = _api_key(scope) if idem is not None and scope["method"] in _METHODS else None
        if idem is None or api_key is None:
            await self.app(scope, receive, send)
            return
        key = idem.decode("latin-1").strip()
        if not 1 <= len(key) <= 255:
            await send_error(send, 400, "InvalidInput", "an Idempotency-Key is 1 to 255 characters")
            return
        body = bytearray()
        while True:  # bounded by BodyLimit, outside this
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        owner, asked = hash_key(api_key), fingerprint(scope, bytes(body))
        pool: Pool = scope["app"].state.pool
        async with pool.acquire() as conn:
            if random.random() < 0.01:  # keep the table to its two days
                await conn.execute("DELETE FROM idempotency_keys WHERE created_at < now() - make_interval(secs => $1)",
                                   KEEP_S)
            claimed = await conn.fetchval(
                "INSERT INTO idempotency_keys (key_owner, idem_key, fingerprint) VALUES ($1, $2, $3)"
                " ON CONFLICT (key_owner, idem_key) DO UPDATE SET fingerprint = $3, created_at = now()"
                "  WHERE idempotency_keys.status_code IS NULL AND idempotency_keys.fingerprint = $3"
                "  AND idempotency_keys.created_at < now() - make_interval(secs => $4)"
                " RETURNING true", owner, key, asked, ABANDONED_S)
            earlier = None if claimed else await conn.fetchrow(
                "SELECT fingerprint, status_code, content_type, body FROM idempotency_keys"
                " WHERE key_owner = $1 AND idem_key = $2", owner, key)
        if earlier is not None:
            await self._answer_again(earlier, asked, send)
            return
        await self._run_once(scope, receive, bytes(body), send, pool, owner, key)

    @staticmethod
    async def _answer_again(row: Record, asked: bytes, send: Send) -> None:
        if row["fingerprint"] != asked:
            await send_error(send, 409, "Conflict",
                             "this Idempotency-Key was used for another request; use a new key for a new request")
        elif row["status_code"] is None:
            await send_error(send, 409, "Conflict",
                             "a request with this Idempotency-Key is still being answered; retry shortly")
        else:
            await send({"type": "http.response.start", "status": row["status_code"],
                        "headers": [(b"content-type", (row["content_type"] or "application/json").encode()),
                                    (b"content-length", str(len(row["body"])).encode()),
                                    (b"idempotent-replayed", b"true")]})
            await send({"type": "http.response.body", "body": bytes(row["body"])})

    async def _run_once(self, scope: Scope, receive: Receive, body: bytes, send: Send, pool: Pool, owner: bytes,
                        key: str) -> None:
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if sent:  # the body is read: what comes next is the client going away
                return await receive()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        status, content_type, answer = 0, "", bytearray()

        async def capture(message: Message) -> None:
            nonlocal status, content_type
            if message["type"] == "http.response.start":
                status = message["status"]
                content_type = dict(message.get("headers") or []).get(b"content-type", b"").decode("latin-1")
            elif message["type"] == "http.response.body" and len(answer) <= MAX_KEPT_BODY:
                answer.extend(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, replay, capture)
        finally:
            keep = 0 < status < 500 and len(answer) <= MAX_KEPT_BODY
            async with pool.acquire() as conn:
                if keep:
                    await conn.execute("UPDATE idempotency_keys SET status_code = $3, content_type = $4, body = $5"
                                       " WHERE key_owner = $1 AND idem_key = $2", owner, key, status, content_type,
                                       bytes(answer))
                else:
                    await conn.execute("DELETE FROM idempotency_keys WHERE key_owner = $1 AND idem_key = $2",
                                       owner, key)
