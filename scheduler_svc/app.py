"""Composition root of scheduler_svc."""

from __future__ import annotations

import asyncio

from fastapi import FastAPI

from scheduler_svc import subscribers
from scheduler_svc.api import jobs, registry
from scheduler_svc.api_keys import keys
from scheduler_svc.config import SchedulerSettings
from scheduler_svc.live import live
from scheduler_svc.registry import register_default_model
from scheduler_svc.repository import SchedulerRepository
from scheduler_svc.service import JobService
from shared.db import transaction
from shared.events import JobState
from shared.metrics import JOBS, QUEUE_AGE, QUEUE_DEPTH
from shared.runtime import Resources, ServiceSpec, create_service_app


def create_app(settings: SchedulerSettings | None = None) -> FastAPI:
    settings = settings or SchedulerSettings()
    service = JobService(settings)

    async def register_model(res: Resources[JobService]) -> None:
        if settings.register_default_model:
            await register_default_model(res.pool, res.store, settings.cache_dir)

    async def enforce_timeouts(res: Resources[JobService]) -> None:
        """Cumulative runtime includes tasks still running: a job is stopped as soon as it passes its limit."""
        while True:
            async with res.pool.acquire() as conn:
                active = await SchedulerRepository(conn).active_jobs()
            for ws_id, job_id in active:
                async with transaction(res.pool) as conn:
                    await service.check_timeout(conn, ws_id, job_id)
                async with transaction(res.pool) as conn:
                    await service.requeue_stalled(conn, ws_id, job_id)
                async with transaction(res.pool) as conn:
                    await service.check_unserved(conn, ws_id, job_id)
            await asyncio.sleep(settings.timeout_check_interval_s)

    async def sample_queues(res: Resources[JobService]) -> None:
        """Queue depth and lag per machine type, jobs per state: gauges for /metrics."""
        while True:
            async with res.pool.acquire() as conn:
                repo = SchedulerRepository(conn)
                queues, jobs = await repo.queue_stats(), await repo.jobs_by_state()
            for machine in ("cpu", "gpu"):
                depth, age = next(((d, a) for m, d, a in queues if m == machine), (0, 0.0))
                QUEUE_DEPTH.labels(machine).set(depth)
                QUEUE_AGE.labels(machine).set(age)
            for state in (s for s in JobState if s != JobState.PENDING):
                JOBS.labels(state).set(jobs.get(state, 0))
            await asyncio.sleep(settings.metrics_interval_s)

    return create_service_app(ServiceSpec(
        name="scheduler", settings=settings, routers=[jobs, live, registry, keys], dependencies=lambda _: service,
        on_startup=[register_model],
        subscriptions=lambda res: subscribers.build(res, service), background=[enforce_timeouts, sample_queues],
    ))
