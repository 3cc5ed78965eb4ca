"""The public entry point: one base URL that routes to the services by path, streaming both ways.

    /                         -> ingest     (workspace discovery)
    /data-staging/...         -> ingest
    /files/...                -> ingest     (signed upload and download links)
    /batch-processing/...     -> scheduler
    /{workspace}/workflows/.. -> scheduler  (workflow definitions, as inference fetches them)
    /{workspace}/models/..    -> scheduler
    /{workspace}/model-aliases/.. -> scheduler
    /{workspace}/api-keys/..  -> scheduler  (the workspace's API keys)
    /notifications/...        -> notifier   (webhook delivery log)
    /asyncapi, /asyncapi.json -> the gateway itself: the Kafka event contract (AsyncAPI 3)
    /docs/...                 -> the gateway itself: the documentation site, as built (python -m deploy.docs.build)

Repeated slashes are collapsed, so ``API_BASE_URL`` with a trailing slash works too. Paths are routed as
decoded but forwarded as sent; one with a ``.``/``..`` segment (however encoded) or a control character
(``%00``) is refused, so nothing behind the gateway is reachable but the routes above. The UI is served with
a content security policy and may not be framed.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.background import BackgroundTask
from starlette.staticfiles import StaticFiles

from deploy.gateway import asyncapi
from deploy.gateway.config import GatewaySettings
from shared.errors import install_error_handlers
from shared.metrics import instrument
from shared.tracing import instrument_app

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
    def of(cls, settings: GatewaySettings) -> Upstreams:
        return cls(ingest=settings.upstream_ingest, scheduler=settings.upstream_scheduler,
                   export=settings.upstream_export, notifier=settings.upstream_notifier,
                   worker=settings.upstream_worker)


_WORKSPACE_SCOPED = re.compile(r"^/[a-z0-9_-]+/(workflows|models|model-aliases|api-keys)(/|$)")


UI_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; "
                               "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    "X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
}


def clean_path(raw: str) -> tuple[str, str] | None:
    """(the decoded path to route on, the path to forward as sent) with repeated slashes collapsed; None for a
    path that must not travel: dot segments or control characters, however they are encoded."""
    forwarded = "/" + re.sub(r"/{2,}", "/", raw).lstrip("/")
    decoded = unquote(forwarded)
    if any(ord(c) < 32 or ord(c) == 127 for c in decoded):
        return None
    if any(segment in (".", "..") for segment in re.split(r"[/\\]", decoded)):
        return None
    return decoded, forwarded


def _raw_path(request: Request) -> str:
    """The path as the client sent it (percent-encoding kept)."""
    raw = request.scope.get("raw_path") or request.scope.get("path", "/").encode()
    return raw.decode("latin-1").split("?", 1)[0]


def route(path: str, up: Upstreams) -> str | None:
    if path == "/" or path.startswith(("/data-staging/", "/files/")):
        return up.ingest
    if path.startswith("/batch-processing/") or _WORKSPACE_SCOPED.match(path):
        return up.scheduler
    if path.startswith("/notifications/"):
        return up.notifier
    return None


def create_gateway(upstreams: Upstreams, *, timeout_s: float = 300.0, metrics_token: str | None = None,
                   traced: bool = False, docs_dir: Path | None = None) -> FastAPI:
    """``traced``: tracing is on (``shared.tracing.configure_tracing``): each request gets a server span, and the
    service it is forwarded to continues that trace (httpx's instrumentation sends its ``traceparent``).
    ``docs_dir``: the built documentation site, served at ``/docs``."""
    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        limits = httpx.Limits(max_connections=200, max_keepalive_connections=50)
        async with httpx.AsyncClient(timeout=timeout_s, limits=limits) as client:
            app.state.client = client
            yield

    app = FastAPI(title="Conveyor gateway", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    install_error_handlers(app)

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

    instrument(app, "gateway", metrics_token, public=True)
    if traced:
        instrument_app(app)
    app.include_router(asyncapi.router)  # the Kafka event contract, for consumers outside Conveyor
    app.mount("/ui", StaticFiles(directory=UI_DIR, html=True), name="ui")
    if docs_dir is not None and (docs_dir / "index.html").exists():
        app.mount("/docs", StaticFiles(directory=docs_dir, html=True), name="docs")
    else:
        @app.get("/docs")
        @app.get("/docs/{rest:path}")
        async def docs_missing(rest: str = "") -> JSONResponse:
            return JSONResponse({"error": "NotFound", "message": "the documentation site is not built here: run "
                                 "`python -m deploy.docs.build` (bootstrap does) or read docs/ in the repository"},
                                status_code=404)

    @app.middleware("http")
    async def guard(request: Request, call_next: Any) -> Any:
        # before routing: a path with a newline matches no route at all, and must still be a clear 400
        if clean_path(_raw_path(request)) is None:
            return JSONResponse({"error": "InvalidInput", "message": "the path holds a '.' or '..' segment or a "
                                 "control character"}, status_code=400)
        response = await call_next(request)
        if request.url.path == "/ui" or request.url.path.startswith("/ui/"):
            response.headers.update(UI_HEADERS)
        return response

    @app.api_route("/{path:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"], response_model=None)
    async def proxy(request: Request, path: str) -> StreamingResponse | JSONResponse:
        paths = clean_path(_raw_path(request))
        assert paths is not None  # the guard refused the others
        clean, forwarded = paths
        target = route(clean, upstreams)
        if target is None:
            return JSONResponse({"error": "NotFound", "message": f"no route for {clean}"[:300]}, status_code=404)
        client: httpx.AsyncClient = request.app.state.client
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP}
        upstream_req = client.build_request(
            request.method, target + forwarded, params=list(request.query_params.multi_items()), headers=headers,
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
