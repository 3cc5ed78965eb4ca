"""Request and response bodies of the batch-processing API (as inference-cli sends and validates them),
and of the workflow and model registries."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.schemas import Camel


class _In(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class ComputeConfiguration(_In):
    type: Literal["compute-configuration-v2"] = "compute-configuration-v2"
    machine_type: Literal["cpu", "gpu"] | None = Field(None, alias="machineType")
    workers_per_machine: int | None = Field(None, alias="workersPerMachine", ge=1, le=64, strict=True)


class StagingBatchInput(_In):
    type: Literal["staging-batch-input-v1"] = "staging-batch-input-v1"
    batch_id: str = Field(alias="batchId", min_length=1, max_length=64)
    part_name: str | None = Field(None, alias="partName")
    images_metadata_part: str | None = Field(None, alias="imagesMetadataPart")


class ProcessingSpecification(_In):
    type: Literal["workflows-processing-specification-v1"] = "workflows-processing-specification-v1"
    workspace: str
    workflow_id: str = Field(alias="workflowId", min_length=1, max_length=128)
    workflow_parameters: dict[str, Any] | None = Field(None, alias="workflowParameters")
    image_input_name: str | None = Field(None, alias="imageInputName")
    persist_images_outputs: bool = Field(False, alias="persistImagesOutputs")
    images_outputs_to_be_persisted: list[str] | None = Field(None, alias="imagesOutputsToBePersisted")
    aggregation_format: Literal["jsonl", "csv"] | None = Field(None, alias="aggregationFormat")
    max_video_fps: float | None = Field(None, alias="maxVideoFPS", gt=0, le=240)
    images_metadata_inputs_mapping: dict[str, str] | None = Field(None, alias="imagesMetadataInputsMapping")


class JobCreate(_In):
    type: Literal["simple-image-processing-v1", "simple-video-processing-v1"]
    job_input: StagingBatchInput = Field(alias="jobInput")
    compute_configuration: ComputeConfiguration = Field(default_factory=ComputeConfiguration,
                                                        alias="computeConfiguration")
    processing_timeout_seconds: int | None = Field(None, alias="processingTimeoutSeconds", ge=1, le=30 * 86_400)
    max_parallel_tasks: int | None = Field(None, alias="maxParallelTasks", ge=1, le=10_000)
    max_image_failure_rate: float | None = Field(None, alias="maxImageFailureRate", ge=0, le=1)
    processing_specification: ProcessingSpecification = Field(alias="processingSpecification")
    notifications_url: str | None = Field(None, alias="notificationsURL", max_length=2048)
    # the executor of this job: "old-inference" Roboflow's Workflows Execution Engine, "inference-models" the
    # built-in blocks (shared.workflows.plans.INFERENCE_BACKENDS); absent: the deployment's CONVEYOR_WORKFLOW_BACKEND
    inference_backend: Literal["old-inference", "inference-models"] | None = Field(None, alias="inferenceBackend")


class TrtCompilationJob(_In):
    """Roboflow's TensorRT compilation job: recognised so that it gets a clear 501, not a validation error."""

    type: Literal["trt-compilation-v1"]
    model_id: str | None = Field(None, alias="modelId")


JobRequest = Annotated[JobCreate | TrtCompilationJob, Field(discriminator="type")]


class RestartOverride(_In):
    type: Literal["parameters-override-v1"] = "parameters-override-v1"
    compute_configuration: ComputeConfiguration | None = Field(None, alias="computeConfiguration")
    max_parallel_tasks: int | None = Field(None, alias="maxParallelTasks", ge=1, le=10_000)
    processing_timeout_seconds: int | None = Field(None, alias="processingTimeoutSeconds", ge=1, le=30 * 86_400)
    max_image_failure_rate: float | None = Field(None, alias="maxImageFailureRate", ge=0, le=1)


class JobMetadata(Camel):
    job_id: str
    name: str
    job_definition: dict[str, Any]
    current_stage: str | None = None
    planned_stages: list[str] = Field(default_factory=list)
    error: bool = False
    is_terminal: bool = False
    last_notification: dict[str, Any] | str | None = None
    created_at: datetime
    last_update: datetime
    restart_parameters_override: list[dict[str, Any]] = Field(default_factory=list)
    # Conveyor extensions (ignored by inference-cli)
    state: str
    reason: str | None = None
    progress: float = 0.0
    runtime_seconds: float = 0.0
    billed_machine_hours: dict[str, float] = Field(default_factory=dict)
    # how the job's models ran: model id, sha256, runtime, precision, device and the files processed so
    inference: list[dict[str, Any]] = Field(default_factory=list)


class JobResponse(Camel):
    job: JobMetadata


class ListJobsResponse(Camel):
    jobs: list[JobMetadata]
    next_page_token: str | None = None


class JobStage(Camel):
    processing_stage_id: str
    processing_stage_name: str
    tasks_number: int
    output_batches: list[str]
    start_timestamp: datetime
    notification: dict[str, Any] | str
    status_type: str
    last_event_timestamp: datetime


class ListStagesResponse(Camel):
    stages: list[JobStage]


class TaskStatus(Camel):
    task_id: str
    notification: dict[str, Any] | str
    status_type: str
    progress: float | None = None
    event_timestamp: datetime


class ListTasksResponse(Camel):
    tasks: list[TaskStatus]
    next_page_token: str | None = None


class JobLog(Camel):
    created_at: datetime
    processing_stage_id: str | None = None
    task_id: str | None = None
    severity: Literal["info", "warning", "error"]
    reporting_module: str
    log_type: str
    payload: dict[str, Any]


class LogsResponse(Camel):
    logs: list[JobLog]
    next_page_token: str | None = None


class WorkflowSave(_In):
    specification: dict[str, Any] | None = None
    config: str | dict[str, Any] | None = None


class ModelInfo(Camel):
    model_id: str
    task: str
    layout: str
    class_names: list[str]
    input_size: int
    sha256: str
    shared: bool
    created_at: datetime
    keypoint_names: list[str] = Field(default_factory=list)
