"""Events of batch jobs (scheduler, workers, export)."""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.events.base import EventBase


class JobState(StrEnum):
    """The states of a job, as ``job.state-changed@v1`` carries them: ``processing`` -> ``exporting`` ->
    ``succeeded``, or ``failed`` / ``aborted`` from either; a failed or aborted job restarts into ``processing``."""

    PENDING = "pending"
    PROCESSING = "processing"
    EXPORTING = "exporting"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    ABORTED = "aborted"

    @property
    def terminal(self) -> bool:
        return self in (JobState.SUCCEEDED, JobState.FAILED, JobState.ABORTED)


class TaskStatus(StrEnum):
    """How a task's attempt ended, as ``task.done@v1`` carries it."""

    SUCCEEDED = "succeeded"
    FAILED = "failed"
    ABORTED = "aborted"


class StageId(StrEnum):
    """A job's stages, in order: each writes its own output batch, ``<job id>-<stage id>``."""

    PROCESSING = "processing"
    EXPORT = "export"

    def batch_of(self, job_id: str) -> str:
        """The stage's output batch: the one place its name is made."""
        return f"{job_id}-{self.value}"


class _Part(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class ModelRef(_Part):
    """A registered model as the worker loads it: its ONNX object (by content hash) and how to read its outputs."""

    model_id: str
    object_key: str
    sha256: str
    task: Literal["object-detection", "instance-segmentation", "keypoint-detection", "classification",
                  "multi-label-classification"]
    layout: str | None = None
    class_names: list[str]
    input_size: int | None = None
    keypoint_names: list[str] = []  # keypoint detection models: their keypoints, in output order


class FailedFile(_Part):
    file_name: str
    reason: str


class ModelExecution(_Part):
    """How a task ran one of its models: the runtime, the precision it computed in, the device, and the
    model file (by hash), so a user can tell fp32 results from bf16 ones."""

    model_id: str
    sha256: str
    runtime: str  # onnxruntime | openvino | inference (Roboflow's engine)
    precision: str  # fp32 | bf16 | fp16
    device: Literal["cpu", "gpu"]


class ArchiveTask(_Part):
    """One archive of an export: a task of the job's export stage."""

    task_id: str
    files_count: int


class TaskReadyV1(EventBase):
    """Emitted by scheduler_svc before task.ready@v2: names the task only (workers read the rest from the job).

    Still decoded, so a message of an older scheduler is not dead-lettered; workers leave it, and the
    scheduler's watchdog dispatches its task again as v2.
    """

    type: Literal["task.ready@v1"] = "task.ready@v1"
    workspace_id: str
    job_id: str
    stage_id: str
    task_id: str
    attempt: int = 1

    def key(self) -> str:
        return f"{self.workspace_id}/{self.job_id}/{self.task_id}"


class TaskReadyV2(EventBase):
    """Emitted by scheduler_svc when a task (a range of files of one stage) may run, with everything the worker
    needs to run it: the workflow and its resolved processing specification, the input range, the models.

    Consumed by worker_svc from the task topic of the job's machine type (cpu or gpu).
    """

    type: Literal["task.ready@v2"] = "task.ready@v2"
    workspace_id: str
    job_id: str
    stage_id: str
    task_id: str
    attempt: int = 1
    kind: Literal["images", "videos"]
    workflow: dict[str, Any]
    parameters: dict[str, Any] = Field(default_factory=dict)
    # outputs whose images are kept (resolved from persistImagesOutputs and imagesOutputsToBePersisted)
    persisted_outputs: list[str] = Field(default_factory=list)
    aggregation_format: Literal["jsonl", "csv"] = "jsonl"
    max_video_fps: float | None = None
    input_batch_id: str
    input_part_name: str | None = None
    seq_from: int
    seq_to: int
    # per-image metadata: the batch's metadata part, and workflow input -> metadata key
    metadata_part: str | None = None
    metadata_mapping: dict[str, str] = Field(default_factory=dict)
    # images of this task in the workflow at once (the job's workersPerMachine); 0: the worker's default
    in_flight: int = 0
    output_batch_id: str
    models: list[ModelRef] = Field(default_factory=list)
    # the executor the job chose (its inferenceBackend); None: the worker's own default
    workflow_backend: Literal["builtin", "inference"] | None = None
    # an estimate's sample: only this many seconds from the start of each video run; None: every frame
    video_seconds: float | None = Field(None, gt=0)

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
    # the first files that failed, with their reasons (the scheduler records them in the job's log)
    failed_file_reasons: list[FailedFile] = Field(default_factory=list)
    # how each model of the workflow ran (empty from workers older than this field)
    inference: list[ModelExecution] = Field(default_factory=list)
    # the worker process that ran it: tasks.progress and tasks.done are topics apart, so a short task's
    # task.started may reach the scheduler after its task.done, and only this one names the worker then
    worker_id: str | None = None
    # what an estimate extrapolates from: the bytes of results the task wrote; for videos, the seconds of video
    # its files hold and the seconds of them it ran (fewer when task.ready's video_seconds cut them short)
    output_bytes: int = 0
    media_seconds: float = 0.0
    media_seconds_run: float = 0.0

    def key(self) -> str:
        return f"{self.workspace_id}/{self.job_id}"


class ProcessingCompletedV1(EventBase):
    """Emitted by scheduler_svc when every task of a job's processing stage has succeeded; consumed by export_svc,
    which packs the results into the export batch this event names.

    A public event, for consumers outside Conveyor as well."""

    type: Literal["job.processing-completed@v1"] = "job.processing-completed@v1"
    workspace_id: str
    job_id: str
    results_batch_id: str  # the processing stage's output batch: a results file per task, and kept images
    export_batch_id: str  # where the archives go
    aggregation_format: Literal["jsonl", "csv"] = "jsonl"  # the format the results were written in

    def key(self) -> str:
        return f"{self.workspace_id}/{self.job_id}"


class ExportCompletedV1(EventBase):
    """Emitted by export_svc once a job's archives are written (or its export failed); consumed by
    scheduler_svc, which ends the job.

    A public event, for consumers outside Conveyor as well."""

    type: Literal["job.export-completed@v1"] = "job.export-completed@v1"
    workspace_id: str
    job_id: str
    export_batch_id: str
    succeeded: bool = True
    archives: list[ArchiveTask] = Field(default_factory=list)  # the export stage's tasks

    def key(self) -> str:
        return f"{self.workspace_id}/{self.job_id}"


class StageCompleteV1(EventBase):
    """Deprecated: job.processing-completed@v1 and job.export-completed@v1 each carry one of its two meanings,
    which a stage id told apart. Still emitted beside each of them for consumers outside Conveyor, naming it in
    ``superseded_by``; Conveyor's services skip such a twin, and handle one without it (written before an
    upgrade) as the event that replaced it.
    """

    type: Literal["stage.complete@v1"] = "stage.complete@v1"
    workspace_id: str
    job_id: str
    stage_id: str
    output_batch_id: str
    succeeded: bool = True
    # processing -> export: the format the results were written in
    aggregation_format: Literal["jsonl", "csv"] = "jsonl"
    # export -> scheduler: the archives made, the export stage's tasks
    archives: list[ArchiveTask] = Field(default_factory=list)
    # the event_id of the job.processing-completed@v1 or job.export-completed@v1 this twin stands beside
    superseded_by: str | None = None

    def key(self) -> str:
        return f"{self.workspace_id}/{self.job_id}"

    @classmethod
    def twin_of(cls, event: ProcessingCompletedV1 | ExportCompletedV1) -> StageCompleteV1:
        """The deprecated event that says what ``event`` says, for consumers that still read it."""
        common = {"correlation_id": event.correlation_id, "workspace_id": event.workspace_id,
                  "job_id": event.job_id, "superseded_by": event.event_id}
        if isinstance(event, ProcessingCompletedV1):
            return cls(**common, stage_id=StageId.PROCESSING, output_batch_id=event.results_batch_id,
                       aggregation_format=event.aggregation_format)
        return cls(**common, stage_id=StageId.EXPORT, output_batch_id=event.export_batch_id,
                   succeeded=event.succeeded, archives=event.archives)

    def upgraded(self) -> ProcessingCompletedV1 | ExportCompletedV1:
        common = {"event_id": self.event_id, "occurred_at": self.occurred_at, "correlation_id": self.correlation_id,
                  "workspace_id": self.workspace_id, "job_id": self.job_id}
        if self.stage_id == StageId.PROCESSING:
            return ProcessingCompletedV1(**common, results_batch_id=self.output_batch_id,
                                         export_batch_id=StageId.EXPORT.batch_of(self.job_id),
                                         aggregation_format=self.aggregation_format)
        return ExportCompletedV1(**common, export_batch_id=self.output_batch_id, succeeded=self.succeeded,
                                 archives=self.archives)


class JobStateChangedV1(EventBase):
    """Emitted by scheduler_svc on every job state transition.

    A public event, for consumers outside Conveyor as well. Every worker process reads it (as a broadcast, from
    the start of the topic) to stop a job's tasks within seconds of an abort, a timeout or a failure.
    """

    type: Literal["job.state-changed@v1"] = "job.state-changed@v1"
    workspace_id: str
    job_id: str
    state: Literal["pending", "processing", "exporting", "succeeded", "failed", "aborted"]
    reason: str | None = None

    def key(self) -> str:
        return f"{self.workspace_id}/{self.job_id}"


class JobProgressV1(EventBase):
    """Emitted by scheduler_svc each time a task of a job's processing stage ends: how far the job is.

    A public event, for consumers outside Conveyor (no Conveyor service consumes it).
    """

    type: Literal["job.progress@v1"] = "job.progress@v1"
    workspace_id: str
    job_id: str
    stage_id: str
    progress: float  # files done (processed or failed) of the stage's files, 0 to 1
    files_total: int
    files_processed: int
    files_failed: int
    tasks_total: int
    tasks_done: int

    def key(self) -> str:
        return f"{self.workspace_id}/{self.job_id}"
