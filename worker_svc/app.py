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

from shared.broker import publish_event
from shared.events import EventBase, WorkerAliveV1, topic_for
from shared.events.base import source_of
from shared.runtime import Resources, ServiceSpec, create_service_app
from worker_svc import subscribers
from worker_svc.backends import Backends
from worker_svc.config import WorkerSettings
from worker_svc.models import ModelCache
from worker_svc.service import TaskRunner
from worker_svc.stops import StoppedJobs

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WorkerDeps:
    models: ModelCache
    runner: TaskRunner
    stops: StoppedJobs


def create_app(settings: WorkerSettings | None = None) -> FastAPI:
    settings = settings or WorkerSettings()
    worker_id = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"

    def dependencies(res: Resources[WorkerDeps]) -> WorkerDeps:
        async def publish(event: EventBase) -> None:
            await publish_event(res.broker, settings.kafka.topic_prefix, topic_for(event), event,
                                source=source_of("worker"))

        models = ModelCache(res.store, settings)
        stops = StoppedJobs()
        runner = TaskRunner(settings, res.pool, res.store, Backends(settings, models), publish=publish,
                            stops=stops, worker_id=worker_id)
        return WorkerDeps(models, runner, stops)

    async def preload_models(res: Resources[WorkerDeps]) -> None:
        # the builtin backend runs models in this process; the engine's processes load their own
        if settings.workflow_backend == "builtin" and settings.preload_models:
            loaded = await res.deps.models.preload(settings.preload_models, settings.preload_wait_s)
            log.info("models preloaded: %s", ", ".join(loaded) or "none")

    async def announce(res: Resources[WorkerDeps]) -> None:
        """Heartbeat of the process (not of a task): the scheduler learns which machine types are served."""
        while True:
            with contextlib.suppress(Exception):  # the next one repairs a lost one
                await res.deps.runner.publish(WorkerAliveV1(worker_id=worker_id, machine_type=settings.machine_type))
            await asyncio.sleep(settings.liveness_interval_s)

    async def leave(res: Resources[WorkerDeps]) -> None:
        if res.deps is None:
            return
        with contextlib.suppress(Exception):
            await res.deps.runner.publish(WorkerAliveV1(worker_id=worker_id, machine_type=settings.machine_type,
                                                        leaving=True))
        await res.deps.runner.backends.close()

    return create_service_app(ServiceSpec(
        name="worker", settings=settings, dependencies=dependencies,
        subscriptions=lambda res: subscribers.build(res, settings, res.deps.runner, res.deps.stops),
        background=[preload_models, announce], on_shutdown=[leave]))
