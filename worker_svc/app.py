"""Composition root of worker_svc."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from dataclasses import dataclass

from fastapi import FastAPI

from shared.runtime import Resources, ServiceSpec, create_service_app
from worker_svc import subscribers
from worker_svc.backends import build_backend
from worker_svc.config import WorkerSettings
from worker_svc.models import ModelCache
from worker_svc.repository import WorkerRepository
from worker_svc.service import TaskRunner

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WorkerDeps:
    models: ModelCache
    runner: TaskRunner


def create_app(settings: WorkerSettings | None = None) -> FastAPI:
    settings = settings or WorkerSettings()

    def dependencies(res: Resources[WorkerDeps]) -> WorkerDeps:
        models = ModelCache(res.pool, res.store, settings)
        return WorkerDeps(models, TaskRunner(settings, res.pool, res.store, build_backend(settings, models)))

    async def preload_models(res: Resources[WorkerDeps]) -> None:
        # the builtin backend runs models in this process; the engine's processes load their own
        if settings.workflow_backend == "builtin" and settings.preload_models:
            loaded = await res.deps.models.preload(settings.preload_models, settings.preload_wait_s)
            log.info("models preloaded: %s", ", ".join(loaded) or "none")

    worker_id = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"

    async def announce(res: Resources[WorkerDeps]) -> None:
        """Heartbeat of the process (not of a task): the scheduler learns which machine types are served."""
        while True:
            async with res.pool.acquire() as conn:
                await WorkerRepository(conn).beat(worker_id, settings.machine_type)
            await asyncio.sleep(settings.liveness_interval_s)

    async def close_backend(res: Resources[WorkerDeps]) -> None:
        with contextlib.suppress(Exception):
            async with res.pool.acquire() as conn:
                await WorkerRepository(conn).leave(worker_id)
        if res.deps is not None:
            await res.deps.runner.backend.close()

    return create_service_app(ServiceSpec(
        name="worker", settings=settings, dependencies=dependencies,
        subscriptions=lambda res: subscribers.build(res, settings, res.deps.runner),
        background=[preload_models, announce], on_shutdown=[close_backend]))
