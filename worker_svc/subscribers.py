"""Kafka subscriber of worker_svc: the task topic of this worker's machine type."""

from __future__ import annotations

from shared.broker import Subscriptions
from shared.events import TaskReadyV1, Topic
from shared.runtime import Resources
from worker_svc.config import WorkerSettings
from worker_svc.service import TaskRunner


def build(res: Resources, settings: WorkerSettings, runner: TaskRunner) -> Subscriptions:
    subs = Subscriptions(res.settings.kafka)
    topic = Topic.TASKS_GPU if settings.machine_type == "gpu" else Topic.TASKS_CPU

    async def task_ready(event: TaskReadyV1) -> None:
        await runner.handle(event)

    # at least once: the offset is committed after the results and task.done are durable
    subs.add(topic, group=f"workers-{settings.machine_type}", handler=task_ready, max_workers=settings.concurrency,
             max_poll_records=settings.concurrency)
    return subs
