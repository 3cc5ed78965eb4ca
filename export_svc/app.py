"""Composition root of export_svc."""

from __future__ import annotations

from fastapi import FastAPI

from export_svc.config import ExportSettings
from shared.runtime import ServiceSpec, create_service_app


def create_app(settings: ExportSettings | None = None) -> FastAPI:
    settings = settings or ExportSettings()
    return create_service_app(ServiceSpec(name="export", settings=settings))
