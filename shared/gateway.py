"""The public entry point: one base URL that routes to the services by path, streaming both ways.

    /                         -> ingest     (workspace discovery)
    /data-staging/...         -> ingest
    /files/...                -> ingest     (signed upload and download links)
    /batch-processing/...     -> scheduler
    /{workspace}/workflows/.. -> scheduler  (workflow definitions, as inference fetches them)
    /{workspace}/models/..    -> scheduler
    /notifications/...        -> notifier   (webhook delivery log)

Repeated slashes are collapsed, so ``API_BASE_URL`` with a trailing slash works too.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.background import BackgroundTask
from starlette.staticfiles import StaticFiles

from shared.metrics import instrument

UI_DIR = Path(__file__).resolve().parent / "ui"  # the web UI, served at /ui/

_HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailers",
               "transfer-encoding", "upgrade", "host", "content-length"}


@dataclass(frozen=True)
class Upstreams:
    ingest: str
    scheduler: str
    export: str
    notifier: str
    worker: str

    def all(self) -> dict[str, str]:
        return {"ingest": self.ingest, "scheduler": self.scheduler, "export": self.export,
                "notifier": self.notifier, "worker": self.worker}

    @classmethod
    def local(cls, port_base: int = 8100, host: str = "127.0.0.1") -> Upstreams:
        names = ("ingest", "scheduler", "worker", "export", "notifier")
        return cls(**{name: f"http://{host}:{port_base + 1 + i}" for i, name in enumerate(names)})


_WORKSPACE_SCOPED = re.compile(r"^/[a-z0-9_-]+/(workflows|models)(/|$)")


def route(path: str, up: Upstreams) -> str | None:
    if path == "/" or path.startswith(("/data-staging/", "/files/")):
        return up.ingest
    if path.startswith("/batch-processing/") or _WORKSPACE_SCOPED.match(path):
        return up.scheduler
    if path.startswith("/notifications/"):
        return up.notifier
    return None


def create_gateway(upstreams: Upstreams, *, timeout_s: float = 300.0) -> FastAPI:
    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        limits = httpx.Limits(max_connections=200, max_keepalive_connections=50)
        async with httpx.AsyncClient(timeout=timeout_s, limits=limits) as client:
            app.state.client = client
            yield

    app = FastAPI(title="Conveyor gateway", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)

    @app.get("/healthz")
    async def healthz(request: Request) -> JSONResponse:
        client: httpx.AsyncClient = request.app.state.client

        async def probe(url: str) -> dict[str, object]:
            try:
                resp = await client.get(f"{url}/healthz", timeout=5)
                return resp.json()
            except Exception as exc:
                return {"status": "down", "error": repr(exc)[:200]}

        names, urls = zip(*upstreams.all().items(), strict=True)
        results = dict(zip(names, await asyncio.gather(*(probe(u) for u in urls)), strict=True))
        healthy = all(r.get("status") == "ok" for r in results.values())
        return JSONResponse({"status": "ok" if healthy else "degraded", "services": results},
                            status_code=200 if healthy else 503)

    instrument(app, "gateway")
    app.mount("/ui", StaticFiles(directory=UI_DIR, html=True), name="ui")

    @app.api_route("/{path:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"], response_model=None)
    async def proxy(request: Request, path: str) -> StreamingResponse | JSONResponse:
        clean = "/" + re.sub(r"/{2,}", "/", path).lstrip("/")
        target = route(clean, upstreams)
        if target is None:
            return JSONResponse({"error": "NotFound", "message": f"no route for {clean}"}, status_code=404)
        client: httpx.AsyncClient = request.app.state.client
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP}
        upstream_req = client.build_request(
            request.method, target + clean, params=request.query_params.multi_items(), headers=headers,
            content=request.stream(),
        )
        try:
            resp = await client.send(upstream_req, stream=True)
        except httpx.HTTPError as exc:
            return JSONResponse({"error": "ServiceUnavailable", "message": f"upstream unavailable: {exc!r}"[:300]},
                                status_code=503)
        out_headers = {k: v for k, v in resp.headers.items() if k.lower() not in _HOP_BY_HOP}
        return StreamingResponse(resp.aiter_raw(), status_code=resp.status_code, headers=out_headers,
                                 background=BackgroundTask(resp.aclose))

    return app
