"""Wiring shared by every service process: the composition root builds a ``ServiceSpec`` and this module
turns it into a FastAPI app whose lifespan opens (and closes) every client.

Startup order: PostgreSQL pool and migrations, S3 client and buckets, Kafka topics, the service's
subscribers, the broker, the outbox relay, then the service's background loops. ``/healthz`` checks
all three dependencies.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

import asyncpg
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse
from faststream.kafka import KafkaBroker

from shared.broker import Subscriptions, build_broker, ensure_topics, start_broker
from shared.config import LogSettings, ServiceSettings
from shared.db import create_pool
from shared.errors import install_error_handlers
from shared.events.base import source_of
from shared.idempotency import Idempotency
from shared.limits import BodyLimit
from shared.logs import configure_logging
from shared.metrics import instrument
from shared.migrations import apply_migrations
from shared.outbox import OutboxRelay
from shared.storage import ObjectStore
from shared.tracing import configure_tracing, instrument_app

log = logging.getLogger(__name__)
D = TypeVar("D")
SHUTDOWN_HOOK_TIMEOUT_S = 10.0


@dataclass
class Resources(Generic[D]):
    """Clients of one service process, opened at startup, and the service's own dependencies (``deps``, made by
    ``ServiceSpec.dependencies`` from the clients). Exposed as ``app.state.resources``."""

    settings: ServiceSettings
    pool: asyncpg.Pool
    store: ObjectStore
    broker: KafkaBroker
    deps: D = None  # type: ignore[assignment]  # set at startup, before anything reads it


@dataclass
class ServiceSpec(Generic[D]):
    name: str
    settings: ServiceSettings
    # the service's typed dependencies (its service objects), made once the clients are open
    dependencies: Callable[[Resources[D]], D] | None = None
    routers: Sequence[APIRouter] = ()
    subscriptions: Callable[[Resources[D]], Subscriptions | None] | None = None
    # long-running loops (sweepers, schedulers); cancelled at shutdown
    background: Sequence[Callable[[Resources[D]], Awaitable[None]]] = ()
    on_startup: Sequence[Callable[[Resources[D]], Awaitable[None]]] = ()
    on_shutdown: Sequence[Callable[[Resources[D]], Awaitable[None]]] = ()
    relay_outbox: bool = True


@contextlib.asynccontextmanager
async def open_resources(spec: ServiceSpec[D]) -> AsyncIterator[Resources[D]]:
    settings = spec.settings
    pool = await create_pool(settings.postgres)
    store = ObjectStore(settings.s3)
    broker = build_broker(settings.kafka, client_id=spec.name)
    relay: OutboxRelay | None = None
    tasks: list[asyncio.Task[None]] = []
    res: Resources[D] = Resources(settings=settings, pool=pool, store=store, broker=broker)
    try:
        await apply_migrations(pool)
        await store.start()
        await store.ensure_buckets()
        if spec.dependencies is not None:
            res.deps = spec.dependencies(res)
        await ensure_topics(settings.kafka)
        subs = spec.subscriptions(res) if spec.subscriptions else None
        if subs is not None:
            broker.include_router(subs.router)
        await start_broker(broker)
        if spec.relay_outbox:
            relay = OutboxRelay(pool, broker, retention_s=settings.outbox_retention_s, source=source_of(spec.name))
            await relay.start()
        for hook in spec.on_startup:
            await hook(res)
        tasks = [asyncio.create_task(_supervised(loop, res), name=f"{spec.name}-bg") for loop in spec.background]
        yield res
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for hook in spec.on_shutdown:
            # bounded: a hook that talks to an unreachable broker or database must not hold the shutdown
            with contextlib.suppress(Exception):
                await asyncio.wait_for(hook(res), SHUTDOWN_HOOK_TIMEOUT_S)
        # each step bounded as the hooks are: a Kafka group leave or a connection that is never given back
        # (Tansu holding a request, a stuck handler) must not hold the process's exit for good
        if relay is not None:
            await _bounded(relay.stop(), "the outbox relay's stop")
        await _bounded(broker.stop(), "the broker's stop")
        await _bounded(store.close(), "closing the object store")
        if not await _bounded(pool.close(), "closing the database pool"):
            pool.terminate()


async def _bounded(step: Awaitable[None], what: str) -> bool:
    """Whether ``step`` ended within ``SHUTDOWN_HOOK_TIMEOUT_S`` (an error is logged and counts as ended)."""
    try:
        await asyncio.wait_for(step, SHUTDOWN_HOOK_TIMEOUT_S)
    except TimeoutError:
        log.warning("%s took more than %.0f s at shutdown; left behind", what, SHUTDOWN_HOOK_TIMEOUT_S)
        return False
    except Exception:
        log.warning("%s failed at shutdown", what, exc_info=True)
    return True


async def _supervised(loop: Callable[[Resources[D]], Awaitable[None]], res: Resources[D]) -> None:
    """Run a background loop forever, restarting it (after a pause) if it crashes."""
    while True:
        try:
            await loop(res)
            return
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("background loop %s crashed; restarting", getattr(loop, "__name__", loop))
            await asyncio.sleep(1.0)


def create_service_app(spec: ServiceSpec[D]) -> FastAPI:
    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with open_resources(spec) as res:
            app.state.resources = res
            app.state.pool = res.pool
            yield

    # no Swagger UI or ReDoc: their pages load their scripts from a CDN, blank offline; the REST reference is
    # the docs site's (the gateway's /docs), made from these apps' OpenAPI documents (still at /openapi.json)
    app = FastAPI(title=f"Conveyor {spec.name}", lifespan=lifespan, docs_url=None, redoc_url=None)
    if configure_tracing(spec.name, spec.settings.otel_endpoint, spec.settings.otel_service_name):
        instrument_app(app)
    install_error_handlers(app)
    for router in spec.routers:
        app.include_router(router)

    @app.get("/healthz", include_in_schema=False)
    async def healthz(request: Request) -> JSONResponse:
        return await health(spec.name, request.app.state.resources)

    instrument(app, spec.name, spec.settings.metrics_token)
    app.add_middleware(Idempotency)  # inside the body limit: it reads the whole body of a keyed create
    app.add_middleware(BodyLimit)
    return app


async def health(name: str, res: Resources[Any]) -> JSONResponse:
    checks: dict[str, str] = {}

    async def check(key: str, probe: Awaitable[Any]) -> None:
        try:
            await asyncio.wait_for(probe, 3)
            checks[key] = "ok"
        except Exception as exc:
            checks[key] = f"error: {exc!r}"[:300]

    await asyncio.gather(
        check("postgres", res.pool.fetchval("SELECT 1")),
        check("s3", res.store.client.head_bucket(Bucket=res.settings.s3.staging_bucket)),
        check("kafka", res.broker.ping(timeout=3)),
    )
    healthy = all(v == "ok" for v in checks.values())
    return JSONResponse({"service": name, "status": "ok" if healthy else "degraded", "checks": checks},
                        status_code=200 if healthy else 503)


class Listening(Protocol):
    """Settings of a process that listens: every service's class."""

    host: str
    port: int
    logs: LogSettings


def serve(name: str, settings: Listening, create_app: Callable[[Any], FastAPI]) -> None:
    """A service process in production: configured by its environment alone (``python -m <svc>``)."""
    import uvicorn

    configure_logging(name, settings.logs)
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_level=settings.logs.level,
                access_log=False, log_config=None)
