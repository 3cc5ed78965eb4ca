"""Errors of the jobs, workflows and models APIs."""

from __future__ import annotations

from shared.errors import Conflict, InvalidInput, NotFound
from shared.staging import StillStaging


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


class WorkflowModelUnknown(InvalidInput):
    """A job's workflow names a model id that is neither registered nor an alias."""

    def __init__(self, workspace: str, model_id: str) -> None:
        super().__init__(
            f"the workflow uses model {model_id!r}, which is neither registered in this workspace nor an alias of "
            f"a registered model: register an ONNX model under that id (conveyor models put {model_id} -f "
            f"model.onnx ...), or map the id to a registered model (conveyor models alias {model_id} <model id>; "
            f"PUT /{workspace}/model-aliases/{model_id} with {{\"modelId\": \"<model id>\"}})")


class JobNotRestartable(Conflict):
    def __init__(self, job_id: str, state: str) -> None:
        super().__init__(f"job {job_id!r} is {state}; only failed or aborted jobs can be restarted")


class BatchStillStaging(Conflict):
    """A job over a batch that is still being staged would process only part of it."""

    def __init__(self, batch_id: str, staging: StillStaging) -> None:
        pending = [f"{staging.shards_open} shard(s) uploaded or being indexed"] if staging.shards_open else []
        if staging.links_valid_until:
            pending.append(f"an upload link valid until {staging.links_valid_until.isoformat(timespec='seconds')} "
                           "not used yet")
        super().__init__(f"input batch {batch_id!r} is still being staged ({'; '.join(pending)}); a job now would "
                         "process only part of it. Start the job once every shard is indexed (see list-ingest-details "
                         "or the ingest-status webhook); an unused upload link stops counting when it expires")


class MachineTypeUnserved(Conflict):
    def __init__(self, machine_type: str) -> None:
        super().__init__(f"no {machine_type} worker is running in this deployment, and SCHEDULER_UNSERVED_MACHINE_TYPE"
                         f" is 'fail': start a {machine_type} worker, or ask for machineType 'cpu'")
