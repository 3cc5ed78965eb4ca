"""Composition root of worker_svc."""

from __future__ import annotations

from fastapi import FastAPI

from shared.runtime import Resources, ServiceSpec, create_service_app
from worker_svc import subscribers
from worker_svc.backends import build_backend
from worker_svc.config import WorkerSettings
from worker_svc.models import ModelCache
from worker_svc.service import TaskRunner


def create_app(settings: WorkerSettings | None = None) -> FastAPI:
    settings = settings or WorkerSettings()

    def subscriptions(res: Resources) -> subscribers.Subscriptions:
        models = ModelCache(res.pool, res.store, settings)
        runner = TaskRunner(settings, res.pool, res.store, build_backend(settings, models))
        res.extras["runner"] = runner
        return subscribers.build(res, settings, runner)

    async def close_backend(res: Resources) -> None:
        if "runner" in res.extras:
            await res.extras["runner"].backend.close()

    return create_service_app(ServiceSpec(name="worker", settings=settings, subscriptions=subscriptions,
                                          on_shutdown=[close_backend]))
