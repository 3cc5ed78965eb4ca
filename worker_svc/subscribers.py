"""Kafka subscribers of worker_svc: the task topic of this worker's machine type, and job lifecycle events."""

from __future__ import annotations

from shared.broker import Subscriptions, add_broadcast
from shared.events import TaskReadyV1, TaskReadyV2, Topic
from shared.runtime import Resources
from worker_svc.config import WorkerSettings
from worker_svc.service import TaskRunner
from worker_svc.stops import StoppedJobs


def build(res: Resources, settings: WorkerSettings, runner: TaskRunner, stops: StoppedJobs) -> Subscriptions:
    subs = Subscriptions(res.settings.kafka)
    topic = Topic.TASKS_GPU if settings.machine_type == "gpu" else Topic.TASKS_CPU

    async def task_ready(event: TaskReadyV1 | TaskReadyV2) -> None:
        await runner.handle(event)

    # at least once: the offset is committed after the results and task.done are durable
    subs.add(topic, group=f"workers-{settings.machine_type}", handler=task_ready, max_workers=settings.concurrency,
             max_poll_records=settings.concurrency)
    # every process hears of every stopped job (no group): a running task stops within a second
    add_broadcast(subs, Topic.JOB_STATES, stops.on_state_changed)
    return subs
