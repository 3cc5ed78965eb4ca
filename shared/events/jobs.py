"""Events of batch jobs (scheduler, workers, export)."""

from __future__ import annotations

from typing import Literal

from shared.events.base import EventBase


class TaskReadyV1(EventBase):
    """Emitted by scheduler_svc when a task (a chunk of files of one stage) may run.

    Consumed by worker_svc from the task topic of the job's machine type (cpu or gpu).
    """

    type: Literal["task.ready@v1"] = "task.ready@v1"
    workspace_id: str
    job_id: str
    stage_id: str
    task_id: str
    attempt: int = 1

    def key(self) -> str:
        return f"{self.workspace_id}/{self.job_id}/{self.task_id}"


class TaskDoneV1(EventBase):
    """Emitted by worker_svc once a task's results are durable (or it failed for good).

    Consumed by scheduler_svc, which tracks progress and cumulative runtime.
    """

    type: Literal["task.done@v1"] = "task.done@v1"
    workspace_id: str
    job_id: str
    stage_id: str
    task_id: str
    attempt: int
    status: Literal["succeeded", "failed", "aborted"]
    files_processed: int = 0
    files_failed: int = 0
    runtime_seconds: float = 0.0
    machine_type: Literal["cpu", "gpu"] = "cpu"
    error: str | None = None

    def key(self) -> str:
        return f"{self.workspace_id}/{self.job_id}"


class StageCompleteV1(EventBase):
    """Emitted when every task of a job stage has finished.

    ``processing`` completion is consumed by export_svc; ``export`` completion by scheduler_svc.
    """

    type: Literal["stage.complete@v1"] = "stage.complete@v1"
    workspace_id: str
    job_id: str
    stage_id: str
    output_batch_id: str
    succeeded: bool = True

    def key(self) -> str:
        return f"{self.workspace_id}/{self.job_id}"


class JobStateChangedV1(EventBase):
    """Emitted by scheduler_svc on every job state transition.

    A public event, for consumers outside Conveyor; no Conveyor service consumes it (the scheduler itself asks
    for the job webhooks, and workers learn of an abort from the task's state).
    """

    type: Literal["job.state-changed@v1"] = "job.state-changed@v1"
    workspace_id: str
    job_id: str
    state: Literal["pending", "processing", "exporting", "succeeded", "failed", "aborted"]
    reason: str | None = None

    def key(self) -> str:
        return f"{self.workspace_id}/{self.job_id}"
