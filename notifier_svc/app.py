"""Composition root of notifier_svc."""

from __future__ import annotations

from fastapi import FastAPI

from notifier_svc.config import NotifierSettings
from shared.runtime import ServiceSpec, create_service_app


def create_app(settings: NotifierSettings | None = None) -> FastAPI:
    settings = settings or NotifierSettings()
    return create_service_app(ServiceSpec(name="notifier", settings=settings))
