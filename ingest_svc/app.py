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

    async def index(res: Resources[StagingService]) -> None:
        await Indexer(settings, res.pool, res.store).run()

    async def sweep(res: Resources[StagingService]) -> None:
        await sweep_forever(res.pool, res.store, settings.expiry_sweep_interval_s)

    return create_service_app(ServiceSpec(
        name="ingest", settings=settings, dependencies=lambda res: StagingService(settings, res.store),
        routers=[discovery, staging, links],
        background=[index, sweep],
    ))
