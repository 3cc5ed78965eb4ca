"""Every failure answers JSON: a backing service away is a 503 to retry, anything unexpected a JSON 500."""

from typing import Any

import asyncpg
import httpx
from fastapi import FastAPI

from shared.errors import install_error_handlers


def _app() -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/away")
    async def away() -> None:
        raise asyncpg.CannotConnectNowError("the database system is starting up")

    @app.get("/nul")
    async def nul() -> None:
        raise asyncpg.CharacterNotInRepertoireError("invalid byte sequence for encoding \"UTF8\": 0x00")

    @app.post("/deep")
    async def deep(body: dict[str, Any]) -> dict[str, Any]:
        return body

    @app.get("/shape")
    async def shape() -> None:
        from scheduler_svc.schemas import WorkflowSave
        WorkflowSave.model_validate({"config": 5})

    @app.get("/bug")
    async def bug() -> None:
        raise KeyError("c")

    return app


async def test_a_database_outage_is_a_503_and_a_bug_a_json_500() -> None:
    transport = httpx.ASGITransport(app=_app(), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        away = await client.get("/away")
        assert away.status_code == 503 and away.json()["error"] == "ServiceUnavailable"
        assert away.headers["retry-after"] == "2"
        nul = await client.get("/nul")
        assert nul.status_code == 400 and nul.json()["error"] == "InvalidInput"
        deep = await client.post("/deep", content=b'{"a":' + b"[" * 100_000 + b"]" * 100_000 + b"}",
                                 headers={"content-type": "application/json"})
        assert deep.status_code in (400, 422) and deep.json()["error"] == "InvalidInput", deep.text
        latin = await client.post("/deep", content=b'{"a": "\xff\xfe"}', headers={"content-type": "application/json"})
        assert latin.status_code in (400, 422) and latin.json()["error"] == "InvalidInput", latin.text
        shape = await client.get("/shape")
        assert shape.status_code == 400 and shape.json()["message"].startswith("invalid request: config")
        bug = await client.get("/bug")
        assert bug.status_code == 500 and bug.json() == {"error": "InternalError",
                                                         "message": "unexpected error; it has been logged"}
