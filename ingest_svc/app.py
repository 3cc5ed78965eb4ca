"""Composition root of ingest_svc."""

from __future__ import annotations

from fastapi import FastAPI

from ingest_svc.api import discovery, links, staging
from ingest_svc.config import IngestSettings
from ingest_svc.indexer import Indexer
from ingest_svc.service import StagingService
from ingest_svc.sweeper import sweep_forever
from shared.runtime import Resources, ServiceSpec, create_service_app


def create_app(settings: IngestSettings | None = None) -> FastAPI:
    settings = settings or IngestSettings()

    async def wire(res: Resources) -> None:
        res.extras["staging"] = StagingService(settings, res.store)

    async def index(res: Resources) -> None:
        await Indexer(settings, res.pool, res.store).run()

    async def sweep(res: Resources) -> None:
        await sweep_forever(res.pool, res.store, settings.expiry_sweep_interval_s)

    return create_service_app(ServiceSpec(
        name="ingest", settings=settings, routers=[discovery, staging, links], on_startup=[wire],
        background=[index, sweep],
    ))
