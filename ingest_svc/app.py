"""Composition root of ingest_svc."""

from __future__ import annotations

from fastapi import FastAPI

from ingest_svc.api import discovery
from ingest_svc.config import IngestSettings
from shared.runtime import ServiceSpec, create_service_app


def create_app(settings: IngestSettings | None = None) -> FastAPI:
    settings = settings or IngestSettings()
    return create_service_app(ServiceSpec(name="ingest", settings=settings, routers=[discovery]))
