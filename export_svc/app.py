"""Composition root of export_svc."""

from __future__ import annotations

from fastapi import FastAPI

from export_svc import subscribers
from export_svc.config import ExportSettings
from export_svc.service import Exporter
from shared.runtime import Resources, ServiceSpec, create_service_app


def create_app(settings: ExportSettings | None = None) -> FastAPI:
    settings = settings or ExportSettings()

    def subscriptions(res: Resources) -> subscribers.Subscriptions:
        return subscribers.build(res, Exporter(settings, res.pool, res.store))

    return create_service_app(ServiceSpec(name="export", settings=settings, subscriptions=subscriptions))
