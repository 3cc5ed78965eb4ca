"""Events of worker processes about themselves and their running tasks (produced by worker_svc, consumed by
scheduler_svc, the single writer of task state and of the worker registry)."""

from __future__ import annotations

from typing import Literal

from shared.events.base import EventBase


class _TaskAttemptEvent(EventBase):
    """What a worker says about one attempt of a task it runs."""

    workspace_id: str
    job_id: str
    stage_id: str
    task_id: str
    attempt: int
    machine_type: Literal["cpu", "gpu"]
    worker_id: str

    def key(self) -> str:
        return f"{self.workspace_id}/{self.job_id}/{self.task_id}"


class TaskStartedV1(_TaskAttemptEvent):
    """A worker took a task's attempt and runs it."""

    type: Literal["task.started@v1"] = "task.started@v1"


class TaskProgressV1(_TaskAttemptEvent):
    """The share of a running task's files done; sent every few seconds, so it is the task's heartbeat too (a
    running task whose progress stops arriving is dispatched again)."""

    type: Literal["task.progress@v1"] = "task.progress@v1"
    progress: float


class WorkerAliveV1(EventBase):
    """A worker process is alive and consumes the task topic of ``machine_type`` (``leaving``: it stops)."""

    type: Literal["worker.alive@v1"] = "worker.alive@v1"
    worker_id: str
    machine_type: Literal["cpu", "gpu"]
    leaving: bool = False

    def key(self) -> str:
        return self.worker_id
