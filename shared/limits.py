"""A bound on every request body, so one caller cannot make a shared service parse tens of megabytes of JSON.

Bodies are refused with a JSON 413 as soon as they pass ``max_bytes``: at once when ``Content-Length`` says so,
else while they stream in (chunked, as the gateway forwards them) — then in place of whatever the framework
answers after it stopped reading. Signed uploads of archives and videos (``/files/upload/``) have limits of their own.
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_BODY_BYTES = 32 * 1024 * 1024  # 20,000 references of a long presigned URL each fit
UNBOUNDED_PREFIXES = ("/files/upload/",)


class BodyTooLarge(Exception):
    pass


class BodyLimit:
    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(UNBOUNDED_PREFIXES):
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(send)
            return
        seen = 0
        started = exceeded = refused = False

        async def counted() -> Message:
            nonlocal seen, exceeded
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    exceeded = True
                    raise BodyTooLarge
            return message

        async def tracked(message: Message) -> None:
            nonlocal started, refused
            if exceeded and not started:
                # the framework may have caught our stop and answered for it ("error parsing the body"):
                # the answer is the 413, whatever it says instead
                if not refused:
                    refused = True
                    await self._refuse(send)
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, tracked)
        except BodyTooLarge:
            if not started and not refused:
                await self._refuse(send)

    async def _refuse(self, send: Send) -> None:
        await send_error(send, 413, "TooLarge", f"request bodies are limited to {self.max_bytes} bytes")


async def send_error(send: Send, status: int, error: str, message: str) -> None:
    """A JSON error answer, from a middleware (outside the framework's handlers)."""
    body = json.dumps({"error": error, "message": message}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
