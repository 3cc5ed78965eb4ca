"""Composition root of worker_svc."""

from __future__ import annotations

import logging

from fastapi import FastAPI

from shared.runtime import Resources, ServiceSpec, create_service_app
from worker_svc import subscribers
from worker_svc.backends import build_backend
from worker_svc.config import WorkerSettings
from worker_svc.models import ModelCache
from worker_svc.service import TaskRunner

log = logging.getLogger(__name__)


def create_app(settings: WorkerSettings | None = None) -> FastAPI:
    settings = settings or WorkerSettings()

    def subscriptions(res: Resources) -> subscribers.Subscriptions:
        models = ModelCache(res.pool, res.store, settings)
        runner = TaskRunner(settings, res.pool, res.store, build_backend(settings, models))
        res.extras["runner"] = runner
        res.extras["models"] = models
        return subscribers.build(res, settings, runner)

    async def preload_models(res: Resources) -> None:
        # the builtin backend runs models in this process; the engine's processes load their own
        if settings.workflow_backend == "builtin" and settings.preload_models:
            loaded = await res.extras["models"].preload(settings.preload_models, settings.preload_wait_s)
            log.info("models preloaded: %s", ", ".join(loaded) or "none")

    async def close_backend(res: Resources) -> None:
        if "runner" in res.extras:
            await res.extras["runner"].backend.close()

    return create_service_app(ServiceSpec(name="worker", settings=settings, subscriptions=subscriptions,
                                          background=[preload_models], on_shutdown=[close_backend]))
