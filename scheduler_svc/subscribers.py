"""Kafka subscribers of scheduler_svc: translate events into service calls, one transaction each."""

from __future__ import annotations

from scheduler_svc.service import JobService
from shared.broker import Subscriptions
from shared.db import transaction
from shared.events import (
    ExportCompletedV1,
    ProcessingCompletedV1,
    StageCompleteV1,
    TaskDoneV1,
    TaskProgressV1,
    TaskStartedV1,
    Topic,
    WorkerAliveV1,
)
from shared.runtime import Resources

# one consumer group per subscription: consumers sharing a group rebalance (and stall) each other on restart
TASKS_GROUP, STAGES_GROUP = "scheduler-tasks", "scheduler-stages"
PROGRESS_GROUP, WORKERS_GROUP = "scheduler-progress", "scheduler-workers"


def build(res: Resources, jobs: JobService) -> Subscriptions:
    subs = Subscriptions(res.settings.kafka)

    async def task_done(event: TaskDoneV1) -> None:
        async with transaction(res.pool) as conn:
            await jobs.on_task_done(conn, event)

    async def stage_complete(event: ProcessingCompletedV1 | ExportCompletedV1 | StageCompleteV1) -> None:
        if isinstance(event, StageCompleteV1):
            if event.superseded_by:  # the deprecated twin of an event handled on its own
                return
            event = event.upgraded()  # written before an upgrade
        if isinstance(event, ExportCompletedV1):  # the processing stage's end is this service's own, for export
            async with transaction(res.pool) as conn:
                await jobs.on_export_completed(conn, event)

    async def task_alive(event: TaskStartedV1 | TaskProgressV1) -> None:
        async with transaction(res.pool) as conn:
            await jobs.on_task_started(conn, event)

    async def worker_alive(event: WorkerAliveV1) -> None:
        async with transaction(res.pool) as conn:
            await jobs.on_worker_alive(conn, event)

    subs.add(Topic.TASKS_DONE, group=TASKS_GROUP, handler=task_done)
    # task state has one writer, this service: workers say what they run, and how far they are
    subs.add(Topic.TASKS_PROGRESS, group=PROGRESS_GROUP, handler=task_alive)
    subs.add(Topic.WORKERS, group=WORKERS_GROUP, handler=worker_alive)
    subs.add(Topic.STAGES, group=STAGES_GROUP, handler=stage_complete)
    return subs
