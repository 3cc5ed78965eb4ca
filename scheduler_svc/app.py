"""Composition root of scheduler_svc."""

from __future__ import annotations

from fastapi import FastAPI

from scheduler_svc.config import SchedulerSettings
from shared.runtime import ServiceSpec, create_service_app


def create_app(settings: SchedulerSettings | None = None) -> FastAPI:
    settings = settings or SchedulerSettings()
    return create_service_app(ServiceSpec(name="scheduler", settings=settings))
