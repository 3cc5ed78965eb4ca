"""Kafka subscribers of scheduler_svc: translate events into service calls, one transaction each."""

from __future__ import annotations

from scheduler_svc.service import JobService
from shared.broker import Subscriptions
from shared.db import transaction
from shared.events import StageCompleteV1, TaskDoneV1, Topic
from shared.runtime import Resources

# one consumer group per subscription: consumers sharing a group rebalance (and stall) each other on restart
TASKS_GROUP, STAGES_GROUP = "scheduler-tasks", "scheduler-stages"


def build(res: Resources, jobs: JobService) -> Subscriptions:
    subs = Subscriptions(res.settings.kafka)

    async def task_done(event: TaskDoneV1) -> None:
        async with transaction(res.pool) as conn:
            await jobs.on_task_done(conn, event)

    async def stage_complete(event: StageCompleteV1) -> None:
        async with transaction(res.pool) as conn:
            await jobs.on_stage_complete(conn, event)

    subs.add(Topic.TASKS_DONE, group=TASKS_GROUP, handler=task_done)
    subs.add(Topic.STAGES, group=STAGES_GROUP, handler=stage_complete)
    return subs
