"""HTTP routes: ``/batch-processing/v1/external/{workspace}/jobs...`` and the workflow and model registries
(``/{workspace}/workflows/{id}`` as inference fetches workflow definitions, ``/{workspace}/models``)."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Body, Depends, Request, UploadFile

from scheduler_svc.errors import JobNotFound, ModelNotFound
from scheduler_svc.estimates import run_estimate
from scheduler_svc.model_aliases import ModelAliases
from scheduler_svc.registry import (
    check_workflow_definition,
    get_workflow,
    register_model,
    save_workflow,
    workflow_body,
    workflow_document,
)
from scheduler_svc.repository import Job, SchedulerRepository, Task
from scheduler_svc.schemas import (
    JobLog,
    JobMetadata,
    JobRequest,
    JobResponse,
    JobStage,
    ListJobsResponse,
    ListStagesResponse,
    ListTasksResponse,
    LogsResponse,
    ModelInfo,
    RestartOverride,
    TaskStatus,
    TrtCompilationJob,
    WorkflowSave,
)
from scheduler_svc.service import PLANNED_STAGES, PROCESSING, JobService
from shared.auth import Workspace, workspace_from_path
from shared.db import transaction
from shared.errors import Conflict, InvalidInput, NotFound, NotSupported, TooLarge
from shared.events import JobState
from shared.ids import JOB_ID_MAX, looks_like_id
from shared.pagination import decode_token, encode_token, integer, page_size, text, timestamp
from shared.runtime import Resources

MAX_WORKFLOW_BYTES = 1024 * 1024  # Roboflow's largest real definitions are tens of kilobytes
jobs = APIRouter(prefix="/batch-processing/v1/external/{workspace}", tags=["batch-processing"])
registry = APIRouter(prefix="/{workspace}", tags=["registry"])


def service(request: Request) -> JobService:
    resources: Resources[JobService] = request.app.state.resources
    return resources.deps


async def job_metadata(repo: SchedulerRepository, job: Job) -> JobMetadata:
    stages = await repo.stages(job)
    current = next((s["stage_id"] for s in reversed(stages) if s["state"] != "pending"), None)
    return JobMetadata(
        job_id=job.job_id, name=job.name, job_definition=job.definition, current_stage=current,
        planned_stages=[PROCESSING] if job.purpose == "estimate" else PLANNED_STAGES,
        error=job.state == JobState.FAILED, is_terminal=job.state.terminal,
        last_notification=job.last_notification, created_at=job.created_at, last_update=job.updated_at,
        restart_parameters_override=job.restart_overrides, state=job.state, reason=job.reason,
        progress=round(await repo.progress(job), 4), runtime_seconds=round(job.runtime_s, 3),
        billed_machine_hours=await repo.billed_hours(job), inference=await repo.inference(job))


async def _job(request: Request, ws: Workspace, job_id: str) -> tuple[SchedulerRepository, Job, Any]:
    """The job and the connection that read it (the caller releases it); on any failure it is released here."""
    if not looks_like_id(job_id, JOB_ID_MAX):
        raise JobNotFound(job_id)
    conn = await request.app.state.pool.acquire()
    try:
        repo = SchedulerRepository(conn)
        job = await repo.get_job(ws.id, job_id)
        if job is None:
            raise JobNotFound(job_id)
    except BaseException:
        await request.app.state.pool.release(conn)
        raise
    return repo, job, conn


@jobs.get("/jobs", response_model=ListJobsResponse)
async def list_jobs(request: Request, ws: Workspace = Depends(workspace_from_path), pageSize: int | None = None,
                    nextPageToken: str | None = None, search: str | None = None) -> ListJobsResponse:
    """The workspace's jobs, newest first; ``search`` keeps those whose id, name or workflow id contains it (any
    case), or whose state it is (a Conveyor extension; pass the same search with each page's token)."""
    limit = page_size(pageSize, 10)
    if search is not None and not 1 <= len(search) <= 200:
        raise InvalidInput("search is 1 to 200 characters")
    cursor = decode_token(nextPageToken, "jobs", c=timestamp, j=text)
    after = (cursor["c"], cursor["j"]) if cursor else None
    async with request.app.state.pool.acquire() as conn:
        repo = SchedulerRepository(conn)
        found = await repo.list_jobs(ws.id, limit + 1, after, search)
        items = [await job_metadata(repo, j) for j in found[:limit]]
    token = encode_token("jobs", {"c": found[limit - 1].created_at.isoformat(), "j": found[limit - 1].job_id}) \
        if len(found) > limit else None
    return ListJobsResponse(jobs=items, next_page_token=token)


@jobs.post("/jobs/estimate")  # before /jobs/{job_id}: a job cannot be named "estimate"
async def estimate_job(request: Request, body: JobRequest,
                       ws: Workspace = Depends(workspace_from_path)) -> dict[str, Any]:
    """What the job of this body would take (time, machine-hours, cost, failures, output size), from a sample of
    its batch run as a small real job on the same workers (a Conveyor extension)."""
    if isinstance(body, TrtCompilationJob):
        raise NotSupported("trt-compilation-v1 jobs are not supported by Conveyor, nor estimated")
    return await run_estimate(request.app.state.pool, service(request), ws, body)


@jobs.post("/jobs/{job_id}")
async def create_job(request: Request, job_id: str, body: JobRequest,
                     ws: Workspace = Depends(workspace_from_path), name: str | None = None) -> dict[str, Any]:
    if isinstance(body, TrtCompilationJob):
        raise NotSupported("trt-compilation-v1 jobs (TensorRT compilation of Roboflow-hosted models) are not "
                           "supported by Conveyor: register your model as ONNX (conveyor models put) and run it "
                           "with machineType gpu")
    async with transaction(request.app.state.pool) as conn:
        job = await service(request).create_job(conn, ws, job_id, body, name)
    return {"status": "ok", "jobId": job.job_id}


@jobs.get("/jobs/{job_id}", response_model=JobResponse)
async def job_details(request: Request, job_id: str, ws: Workspace = Depends(workspace_from_path)) -> JobResponse:
    repo, job, conn = await _job(request, ws, job_id)
    try:
        return JobResponse(job=await job_metadata(repo, job))
    finally:
        await request.app.state.pool.release(conn)


_STATUS_TYPE = {"pending": "info", "queued": "info", "running": "info", "succeeded": "success", "failed": "error",
                "aborted": "error"}


@jobs.get("/jobs/{job_id}/stages", response_model=ListStagesResponse)
async def job_stages(request: Request, job_id: str, ws: Workspace = Depends(workspace_from_path)) -> ListStagesResponse:
    repo, job, conn = await _job(request, ws, job_id)
    try:
        rows = await repo.stages(job)
    finally:
        await request.app.state.pool.release(conn)
    # a stage is listed once it has tasks (inference-cli divides by tasksNumber)
    return ListStagesResponse(stages=[
        JobStage(processing_stage_id=r["stage_id"], processing_stage_name=r["stage_name"],
                 tasks_number=r["tasks_number"], output_batches=[r["output_batch_id"]],
                 start_timestamp=r["started_at"] or r["updated_at"], notification=r["notification"] or {},
                 status_type=_STATUS_TYPE[r["state"]], last_event_timestamp=r["updated_at"])
        for r in rows if r["tasks_number"] > 0])


def _task(t: Task) -> TaskStatus:
    notification: dict[str, Any] = {"state": t.state, "attempt": t.attempt, "filesCount": t.files_count,
                                    "filesProcessed": t.files_processed, "filesFailed": t.files_failed}
    if t.error:
        notification["error"] = t.error
    if t.output_bytes is not None:
        notification["outputBytes"] = t.output_bytes
    # a task that has not started reports no progress: inference-cli counts tasks with progress as started
    progress = 1.0 if t.state == "succeeded" else None if t.state in ("pending", "queued") else t.progress
    return TaskStatus(task_id=t.task_id, notification=notification, status_type=_STATUS_TYPE[t.state],
                      progress=progress, event_timestamp=t.updated_at)


@jobs.get("/jobs/{job_id}/stages/{stage_id}/tasks", response_model=ListTasksResponse)
async def stage_tasks(request: Request, job_id: str, stage_id: str, ws: Workspace = Depends(workspace_from_path),
                      pageSize: int | None = None, nextPageToken: str | None = None) -> ListTasksResponse:
    limit = page_size(pageSize, 500)
    cursor = decode_token(nextPageToken, "tasks", t=text)
    repo, job, conn = await _job(request, ws, job_id)
    try:
        if stage_id not in PLANNED_STAGES:
            raise NotFound(f"job {job_id!r} has no stage {stage_id!r} (stages: {', '.join(PLANNED_STAGES)})")
        found = await repo.list_tasks(job, stage_id, limit + 1, cursor["t"] if cursor else None)
    finally:
        await request.app.state.pool.release(conn)
    token = encode_token("tasks", {"t": found[limit - 1].task_id}) if len(found) > limit else None
    return ListTasksResponse(tasks=[_task(t) for t in found[:limit]], next_page_token=token)


@jobs.get("/jobs/{job_id}/logs", response_model=LogsResponse)
async def job_logs(request: Request, job_id: str, ws: Workspace = Depends(workspace_from_path),
                   severity: str | None = None, pageSize: int | None = None,
                   nextPageToken: str | None = None) -> LogsResponse:
    if severity not in (None, "info", "warning", "error"):
        raise InvalidInput("severity must be info, warning or error")
    limit = page_size(pageSize, 500)
    cursor = decode_token(nextPageToken, "logs", i=integer)
    repo, job, conn = await _job(request, ws, job_id)
    try:
        rows = await repo.logs(job, severity, limit + 1, cursor["i"] if cursor else 0)
    finally:
        await request.app.state.pool.release(conn)
    token = encode_token("logs", {"i": rows[limit - 1]["id"]}) if len(rows) > limit else None
    return LogsResponse(logs=[
        JobLog(created_at=r["created_at"], processing_stage_id=r["stage_id"], task_id=r["task_id"],
               severity=r["severity"], reporting_module=r["reporting_module"], log_type=r["log_type"],
               payload=r["payload"]) for r in rows[:limit]], next_page_token=token)


@jobs.post("/jobs/{job_id}/abort")
async def abort_job(request: Request, job_id: str, ws: Workspace = Depends(workspace_from_path)) -> dict[str, Any]:
    async with transaction(request.app.state.pool) as conn:
        return await service(request).abort(conn, ws, job_id)


@jobs.post("/jobs/{job_id}/restart")
async def restart_job(request: Request, job_id: str, ws: Workspace = Depends(workspace_from_path),
                      body: RestartOverride | None = Body(None)) -> dict[str, Any]:
    async with transaction(request.app.state.pool) as conn:
        return await service(request).restart(conn, ws, job_id, body)


# ---------------------------------------------------------------------- workflows
@registry.get("/workflows")
async def list_workflows(request: Request, ws: Workspace = Depends(workspace_from_path), pageSize: int | None = None,
                         nextPageToken: str | None = None) -> dict[str, Any]:
    limit = page_size(pageSize, 100)
    cursor = decode_token(nextPageToken, "workflows", w=text)
    async with request.app.state.pool.acquire() as conn:
        rows = await SchedulerRepository(conn).list_workflows(ws.id, limit + 1, cursor["w"] if cursor else "")
    token = encode_token("workflows", {"w": rows[limit - 1]["workflow_id"]}) if len(rows) > limit else None
    return {"workflows": [workflow_document(ws.slug, r)["workflow"] for r in rows[:limit]], "nextPageToken": token}


@registry.get("/workflows/{workflow_id}")
async def read_workflow(request: Request, workflow_id: str, ws: Workspace = Depends(workspace_from_path)) -> dict:
    async with request.app.state.pool.acquire() as conn:
        return workflow_document(ws.slug, await get_workflow(conn, ws.id, workflow_id))


@registry.put("/workflows/{workflow_id}")
@registry.post("/workflows/{workflow_id}")
async def write_workflow(request: Request, workflow_id: str, body: dict[str, Any] = Body(...),
                         ws: Workspace = Depends(workspace_from_path)) -> dict[str, Any]:
    spec = workflow_body(WorkflowSave.model_validate(body) if {"specification", "config"} & set(body) else body)
    if len(json.dumps(spec)) > MAX_WORKFLOW_BYTES:
        raise TooLarge(f"a workflow definition is limited to {MAX_WORKFLOW_BYTES} bytes of JSON")
    await check_workflow_definition(workflow_id, spec, service(request).settings)
    async with transaction(request.app.state.pool) as conn:
        await save_workflow(conn, ws.id, workflow_id, spec)
        return workflow_document(ws.slug, await get_workflow(conn, ws.id, workflow_id))


@registry.delete("/workflows/{workflow_id}")
async def delete_workflow(request: Request, workflow_id: str, ws: Workspace = Depends(workspace_from_path)) -> dict:
    async with transaction(request.app.state.pool) as conn:
        deleted = await SchedulerRepository(conn).delete_workflow(ws.id, workflow_id)
    return {"status": "ok", "deleted": deleted}


# ---------------------------------------------------------------------- models
def _model(r: Any) -> ModelInfo:
    return ModelInfo(model_id=r["model_id"], task=r["task"], layout=r["layout"], class_names=r["class_names"],
                     input_size=r["input_size"], sha256=r["sha256"], shared=r["workspace_id"] is None,
                     created_at=r["created_at"], keypoint_names=r["keypoint_names"])


@registry.get("/models")
async def list_models(request: Request, ws: Workspace = Depends(workspace_from_path)) -> dict[str, Any]:
    async with request.app.state.pool.acquire() as conn:
        rows = await SchedulerRepository(conn).list_models(ws.id)
    return {"models": [_model(r).model_dump() for r in rows]}


@registry.get("/models/{model_id:path}")
async def read_model(request: Request, model_id: str, ws: Workspace = Depends(workspace_from_path)) -> dict[str, Any]:
    async with request.app.state.pool.acquire() as conn:
        row = await SchedulerRepository(conn).get_model(ws.id, model_id)
    if row is None:
        raise ModelNotFound(model_id)
    return {"model": _model(row).model_dump()}


@registry.put("/models/{model_id:path}")
@registry.post("/models/{model_id:path}")
async def upload_model(request: Request, model_id: str, ws: Workspace = Depends(workspace_from_path)) -> dict:
    """Register an ONNX model: multipart with ``file``, ``task``, ``classNames`` and, for keypoint detection,
    ``keypointNames`` (JSON lists or comma lists)."""
    form = await request.form(max_files=1, max_part_size=1024 * 1024)
    upload = form.get("file")
    if not isinstance(upload, UploadFile) and not hasattr(upload, "read"):
        raise InvalidInput("send the ONNX model as the multipart file 'file'")
    names = _names(form.get("classNames"), "classNames")
    keypoints = _names(form.get("keypointNames"), "keypointNames")
    data = await upload.read()  # type: ignore[union-attr]
    settings = service(request).settings
    async with transaction(request.app.state.pool) as conn:
        return await register_model(conn, request.app.state.resources.store, ws.id, model_id, data,
                                    str(form.get("task") or "object-detection"), names, keypoints,
                                    check_memory_mb=settings.model_check_memory_mb,
                                    check_timeout_s=settings.model_check_timeout_s)


def _names(value: Any, field: str) -> list[str]:
    """A JSON list or a comma-separated list of names."""
    raw_names = str(value or "")
    try:
        names = json.loads(raw_names) if raw_names.strip().startswith("[") else \
            [n.strip() for n in raw_names.split(",") if n.strip()]
    except ValueError:
        raise InvalidInput(f"{field} must be a JSON list or a comma-separated list") from None
    if not isinstance(names, list):
        raise InvalidInput(f"{field} must be a JSON list or a comma-separated list")
    return [str(n) for n in names]


# ---------------------------------------------------------------------- model aliases
def _model_id(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value or len(value) > 128 \
            or not all(c.isalnum() or c in "-_./" for c in value):
        raise InvalidInput(f"{what} must be 1 to 128 letters, digits, '-', '_', '.' or '/'")
    return value


@registry.get("/model-aliases")
async def list_model_aliases(request: Request, ws: Workspace = Depends(workspace_from_path)) -> dict[str, Any]:
    async with request.app.state.pool.acquire() as conn:
        return {"aliases": await ModelAliases(conn).list(ws.id)}


@registry.put("/model-aliases/{alias:path}")
async def put_model_alias(request: Request, alias: str, body: dict[str, Any] = Body(...),
                          ws: Workspace = Depends(workspace_from_path)) -> dict[str, Any]:
    """Map a model id that workflows name (e.g. Roboflow's ``yolov8n-640``) to a registered model."""
    alias, model_id = _model_id(alias, "an alias"), _model_id(body.get("modelId"), "modelId")
    async with transaction(request.app.state.pool) as conn:
        repo = SchedulerRepository(conn)
        if await repo.get_model(ws.id, model_id) is None:
            raise ModelNotFound(model_id)
        if await repo.get_model(ws.id, alias) is not None:
            raise Conflict(f"a model is registered under {alias!r}; workflows naming it use that model, so an alias "
                           "of that id would never take effect")
        await ModelAliases(conn).put(ws.id, alias, model_id)
    return {"alias": alias, "modelId": model_id}


@registry.delete("/model-aliases/{alias:path}")
async def delete_model_alias(request: Request, alias: str, ws: Workspace = Depends(workspace_from_path)) -> dict:
    async with transaction(request.app.state.pool) as conn:
        deleted = await ModelAliases(conn).delete(ws.id, alias)
    return {"status": "ok", "deleted": deleted}
