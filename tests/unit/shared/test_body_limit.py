"""A body past the limit is a JSON 413 however it travels: with a Content-Length (refused before it is read)
or chunked, as the gateway forwards every body (refused once the count passes the limit, even where the
framework turns the middleware's stop into its own "error parsing the body")."""

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request

from shared.errors import install_error_handlers
from shared.limits import BodyLimit

LIMIT = 1000


def _app() -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)
    app.add_middleware(BodyLimit, max_bytes=LIMIT)

    @app.post("/json")
    async def parsed(body: dict[str, Any]) -> dict[str, int]:  # FastAPI reads and parses the body itself
        return {"keys": len(body)}

    @app.post("/raw")
    async def raw(request: Request) -> dict[str, int]:
        return {"bytes": len(await request.body())}

    return app


async def _chunked(data: bytes) -> AsyncIterator[bytes]:
    for at in range(0, len(data), 100):
        yield data[at:at + 100]


@pytest.mark.parametrize("route", ["/json", "/raw"])
@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
async def test_a_body_one_byte_past_the_limit_is_a_413_and_one_at_it_is_read(route: str, chunked: bool) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=_app()), base_url="http://t") as client:
        for size, status in ((LIMIT, 200), (LIMIT + 1, 413)):
            body = b'{"a": "' + b"x" * (size - 9) + b'"}'
            assert len(body) == size
            resp = await client.post(route, content=_chunked(body) if chunked else body,
                                     headers={"content-type": "application/json"})
            assert resp.status_code == status, resp.text
            if status == 413:
                assert resp.json() == {"error": "TooLarge", "message": f"request bodies are limited to {LIMIT} bytes"}
