"""An unexpected error answers a JSON 500 and keeps the connection: Starlette's last-resort handler re-raises
after answering, and uvicorn then closed the connection, so the gateway's next request on that kept-alive
connection failed with "upstream unavailable" (503)."""

import asyncio
import json

import uvicorn
from fastapi import FastAPI

from shared.errors import install_error_handlers
from tests.fixtures.receiver import free_port


def _app() -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/bug")
    async def bug() -> None:
        raise TypeError("'int' object is not iterable")

    @app.get("/ok")
    async def ok() -> dict[str, bool]:
        return {"ok": True}

    return app


async def _exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, path: str) -> tuple[int, bytes]:
    writer.write(f"GET {path} HTTP/1.1\r\nHost: t\r\n\r\n".encode())
    await writer.drain()
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
    length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n")
                  if line.lower().startswith(b"content-length"))
    return int(head.split()[1]), await reader.readexactly(length)


async def test_a_500_leaves_the_kept_alive_connection_open_for_the_next_request() -> None:
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(_app(), host="127.0.0.1", port=port, log_level="critical"))
    serving = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.02)
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        status, body = await _exchange(reader, writer, "/bug")
        assert status == 500 and json.loads(body)["error"] == "InternalError"
        await asyncio.sleep(0.2)  # time for a close to arrive
        assert await _exchange(reader, writer, "/ok") == (200, b'{"ok":true}')  # the same connection
        writer.close()
    finally:
        server.should_exit = True
        await serving
