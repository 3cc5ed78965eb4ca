"""Composition root of worker_svc."""

from __future__ import annotations

from fastapi import FastAPI

from worker_svc.config import WorkerSettings
from shared.runtime import ServiceSpec, create_service_app


def create_app(settings: WorkerSettings | None = None) -> FastAPI:
    settings = settings or WorkerSettings()
    return create_service_app(ServiceSpec(name="worker", settings=settings))
