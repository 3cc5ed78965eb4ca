"""Errors of the jobs, workflows and models APIs."""

from __future__ import annotations

from shared.errors import Conflict, NotFound


class JobNotFound(NotFound):
    def __init__(self, job_id: str) -> None:
        super().__init__(f"job {job_id!r} does not exist in this workspace")


class JobExists(Conflict):
    def __init__(self, job_id: str) -> None:
        super().__init__(f"job {job_id!r} already exists; choose another job id")


class WorkflowNotFound(NotFound):
    def __init__(self, workflow_id: str) -> None:
        super().__init__(f"workflow {workflow_id!r} does not exist in this workspace")


class ModelNotFound(NotFound):
    def __init__(self, model_id: str) -> None:
        super().__init__(f"model {model_id!r} is not registered in this workspace")


class JobNotRestartable(Conflict):
    def __init__(self, job_id: str, state: str) -> None:
        super().__init__(f"job {job_id!r} is {state}; only failed or aborted jobs can be restarted")
