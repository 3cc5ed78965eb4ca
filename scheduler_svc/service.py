"""The job state machine. Callers own the transaction; every event goes out through the outbox.

    processing --(all processing tasks succeeded)--> exporting --(export stage complete)--> succeeded
        \\--(task failed N times | failure rate | cumulative runtime > timeout)--> failed
        \\--(abort)--> aborted;   failed | aborted --(restart)--> processing (finished tasks kept)

Tasks go pending -> queued (dispatched, at most ``max_parallel_tasks`` at once) -> running -> succeeded |
failed | aborted. ``task.done`` events are applied once per (task, attempt): redeliveries change nothing.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from scheduler_svc.config import SchedulerSettings
from scheduler_svc.decisions import (
    ENDED,
    Progress,
    after_task,
    free_slots,
    limit_passed,
    restartable,
    task_row_after,
    timed_out,
    timeout_reason,
    unserved,
)
from scheduler_svc.errors import (
    BatchStillStaging,
    JobExists,
    JobNotFound,
    JobNotRestartable,
    MachineTypeUnserved,
)
from scheduler_svc.estimates import SamplePlan
from scheduler_svc.job_workflow import checked_workflow, workflow_backend
from scheduler_svc.model_aliases import resolve_model
from scheduler_svc.partitions import partition_of
from scheduler_svc.repository import Job, SchedulerRepository, model_ref
from scheduler_svc.schemas import JobCreate, RestartOverride
from shared.auth import Workspace
from shared.db import Connection
from shared.errors import Conflict, Forbidden, InvalidInput
from shared.events import (
    ExportCompletedV1,
    JobProgressV1,
    JobState,
    JobStateChangedV1,
    NotificationRequestedV1,
    ProcessingCompletedV1,
    StageCompleteV1,
    StageId,
    TaskDoneV1,
    TaskProgressV1,
    TaskReadyV2,
    TaskStartedV1,
    TaskStatus,
    Topic,
    WorkerAliveV1,
)
from shared.events.base import source_of
from shared.events.webhooks import JobNotificationV1
from shared.ids import JOB_ID_MAX, looks_like_id, validate_job_id
from shared.netsafe import UnsafeURL, check_url_static
from shared.outbox import enqueue, enqueue_many
from shared.staging import StagingRepository
from shared.workflows.plans import plan_workflow

log = logging.getLogger(__name__)
SOURCE = source_of("scheduler")  # the CloudEvents source of the events this service writes

PROCESSING, EXPORT = StageId.PROCESSING, StageId.EXPORT
PLANNED_STAGES = list(StageId)


MAX_CACHED_SPECS = 512  # jobs whose task spec a scheduler process keeps (a few kilobytes each)


def aggregation_format(job: Job) -> str:
    """The format the job's results are written in (tasks) and exported in (archives)."""
    return job.definition["processingSpecification"].get("aggregationFormat") or "jsonl"


class JobService:
    def __init__(self, settings: SchedulerSettings) -> None:
        self.settings = settings
        self.prefix = settings.kafka.topic_prefix
        # each job's task spec (its plan and models), made once, not at every dispatch round
        self._specs: OrderedDict[tuple[str, str, str, int], dict[str, Any]] = OrderedDict()

    # ------------------------------------------------------------------ creation
    async def create_job(self, conn: Connection, ws: Workspace, job_id: str, body: JobCreate,
                         name: str | None, sample: SamplePlan | None = None) -> Job:
        """A job of the whole input batch; with ``sample``, an estimate's sample run of a part of it: the same
        checks and workers, its own tasks, no export, no notifications (scheduler_svc/estimates.py)."""
        validate_job_id(job_id)
        repo = SchedulerRepository(conn)
        spec = body.processing_specification
        if spec.workspace != ws.slug:
            raise Forbidden(f"processingSpecification.workspace {spec.workspace!r} is not this workspace")
        kind = "videos" if body.type == "simple-video-processing-v1" else "images"
        batch = await StagingRepository(conn).get_batch(ws.id, body.job_input.batch_id)
        if batch is None:
            raise InvalidInput(f"input batch {body.job_input.batch_id!r} does not exist (stage data first)")
        if batch.content_type != kind:
            raise InvalidInput(f"input batch {batch.batch_id!r} holds {batch.content_type}; a {body.type} job "
                               f"needs {kind}")
        still = await StagingRepository(conn).still_staging(ws.id, batch.batch_id)
        if still:
            raise BatchStillStaging(batch.batch_id, still)
        workflow = await checked_workflow(conn, ws, body, kind, self.settings)
        if body.notifications_url:
            try:
                check_url_static(body.notifications_url, frozenset(self.settings.webhook_allowed_hosts))
            except UnsafeURL as exc:
                raise InvalidInput(f"unsafe-url-detected: notificationsURL: {exc}") from None
        compute = body.compute_configuration
        machine_type, fallback = await self._machine_type(repo, compute.machine_type or "cpu")
        inserted = await repo.insert_job(
            ws.id, job_id, name=name or job_id, kind=kind, definition=body.model_dump(by_alias=True, mode="json"),
            workflow=workflow["specification"], input_batch_id=batch.batch_id,
            input_part_name=body.job_input.part_name, state=JobState.PROCESSING, machine_type=machine_type,
            workers_per_machine=compute.workers_per_machine or self.settings.default_workers_per_machine,
            timeout_s=sample.timeout_s if sample else (body.processing_timeout_seconds
                                                       or self.settings.default_timeout_s),
            max_parallel_tasks=body.max_parallel_tasks or self.settings.default_max_parallel_tasks,
            max_failure_rate=None if sample else body.max_image_failure_rate,
            notifications_url=None if sample else body.notifications_url, purpose="estimate" if sample else "run")
        if not inserted:
            raise JobExists(job_id)
        job = await repo.get_job(ws.id, job_id, lock=True)
        assert job is not None
        staging = StagingRepository(conn)
        # every stage output batch lives for the staging period from its own creation, not the input's
        expires = datetime.now(UTC) + self.settings.s3.staging_expiry
        for position, stage_id in enumerate([PROCESSING] if sample else PLANNED_STAGES):
            batch_id = stage_id.batch_of(job_id)
            if not await staging.insert_batch(ws.id, batch_id, f"{job.name} ({stage_id})", "multipart-batch",
                                              "metadata" if stage_id == PROCESSING else "archives", expires,
                                              produced_by_job=job_id):
                raise Conflict(f"batch {batch_id!r} already exists: the job's {stage_id} results would be mixed "
                               f"into it; choose another job id")
            await repo.insert_stage(job, stage_id, stage_id, position, batch_id,
                                    "running" if stage_id == PROCESSING else "pending")
        planned = await (sample.insert_tasks(conn, job) if sample else
                         repo.plan_tasks(job, PROCESSING, *self.settings.task_size(kind)))
        if planned == 0:
            raise InvalidInput(f"input batch {batch.batch_id!r} has no files"
                               + (f" in part {job.input_part_name!r}" if job.input_part_name else ""))
        await repo.log(job, "info", "job-created", {"tasks": planned, "inputBatch": batch.batch_id,
                                                    "workflowId": spec.workflow_id}, stage_id=PROCESSING)
        if fallback:
            await repo.log(job, "warning", "machine-type-fallback", {"requested": compute.machine_type,
                                                                      "running": machine_type, "reason": fallback})
        await enqueue(conn, self.prefix,
                      JobStateChangedV1(workspace_id=ws.id, job_id=job_id, state=JobState.PROCESSING), source=SOURCE)
        await self._dispatch(conn, repo, job)
        return job

    async def _machine_type(self, repo: SchedulerRepository, requested: str) -> tuple[str, str | None]:
        """The machine type a new job runs on, and why it is not the requested one (None when it is)."""
        if requested == "cpu" or requested in await repo.live_machine_types(self.settings.worker_liveness_s):
            return requested, None
        if self.settings.unserved_machine_type == "fail":
            raise MachineTypeUnserved(requested)
        return "cpu", (f"no {requested} worker is running in this deployment; the job runs on cpu workers "
                       f"(SCHEDULER_UNSERVED_MACHINE_TYPE=cpu)")

    async def check_unserved(self, conn: Connection, ws_id: str, job_id: str) -> bool:
        """A job whose queued tasks waited ``queue_wait_s`` while no worker of its machine type was live is
        moved to cpu workers (a gpu job, policy ``cpu``) or failed with the reason: nothing waits forever."""
        repo = SchedulerRepository(conn)
        job = await repo.get_job(ws_id, job_id, lock=True)
        if job is None or job.state != JobState.PROCESSING:
            return False
        waited = await repo.queued_wait_s(job)
        if waited < self.settings.queue_wait_s:  # before asking which workers are live: most rounds stop here
            return False
        live = set(await repo.live_machine_types(self.settings.worker_liveness_s))
        action = unserved(job.machine_type, live, waited, self.settings.queue_wait_s,
                          self.settings.unserved_machine_type)
        if action == "wait":
            return False
        if action == "move-to-cpu":
            moved = await repo.move_queued(job, "cpu")
            job = replace(job, machine_type="cpu")
            await self._stage_ready(conn, job, moved)
            await repo.log(job, "warning", "machine-type-fallback", {
                "requested": "gpu", "running": "cpu", "reason": f"no gpu worker was live for "
                f"{self.settings.queue_wait_s:.0f}s; queued tasks moved to cpu workers"}, stage_id=PROCESSING)
            return True
        await self._finish(conn, repo, job, JobState.FAILED,
                           f"no {job.machine_type} worker was live while tasks waited "
                           f"{self.settings.queue_wait_s:.0f}s (start a {job.machine_type} worker, then restart "
                           f"the job)")
        return True

    async def _dispatch(self, conn: Connection, repo: SchedulerRepository, job: Job) -> int:
        free = free_slots(job.max_parallel_tasks, await repo.count_tasks(job, PROCESSING))
        if free == 0:
            return 0
        claimed = await repo.claim_for_dispatch(job, PROCESSING, free)
        await self._stage_ready(conn, job, claimed)
        return len(claimed)

    async def _stage_ready(self, conn: Connection, job: Job, tasks: list[tuple[str, int]]) -> None:
        """``task.ready`` for each (task, attempt), on the job's machine type's topic, in the outbox: with the
        resolved processing specification, so the worker never reads the job."""
        if not tasks:
            return
        repo = SchedulerRepository(conn)
        ranges = await repo.task_ranges(job, PROCESSING, [task_id for task_id, _ in tasks])
        spec = await self._task_spec(repo, job)
        topic = Topic.TASKS_GPU if job.machine_type == "gpu" else Topic.TASKS_CPU
        events = [TaskReadyV2(workspace_id=job.workspace_id, job_id=job.job_id, stage_id=PROCESSING, task_id=task_id,
                              attempt=attempt, seq_from=ranges[task_id][0], seq_to=ranges[task_id][1],
                              video_seconds=ranges[task_id][2], correlation_id=job.job_id, **spec)
                  for task_id, attempt in tasks]
        # the partition each goes to, from the key it is published with
        await repo.mark_queued(job, PROCESSING, {e.task_id: partition_of(e.key(), topic) for e in events})
        await enqueue_many(conn, self.prefix, events, topic=topic, source=SOURCE)

    async def _task_spec(self, repo: SchedulerRepository, job: Job) -> dict[str, Any]:
        """What every task of the job carries, planned once per job (again after a restart that overrides its
        definition; a job made anew under the same id is another job): every task runs the same plan with the
        same models, and a job of a thousand tasks is not planned at each of its dispatch rounds."""
        key = (job.workspace_id, job.job_id, job.created_at.isoformat(), len(job.restart_overrides))
        if key in self._specs:
            self._specs.move_to_end(key)
            return self._specs[key]
        spec = self._specs[key] = await self._plan_task_spec(repo, job)
        if len(self._specs) > MAX_CACHED_SPECS:
            self._specs.popitem(last=False)
        return spec

    async def _plan_task_spec(self, repo: SchedulerRepository, job: Job) -> dict[str, Any]:
        """The workflow, its resolved parameters and outputs, the models."""
        spec = job.definition["processingSpecification"]
        job_input = job.definition.get("jobInput") or {}
        params = spec.get("workflowParameters") or {}
        backend = workflow_backend(job.definition, self.settings.workflow_backend)
        plan = plan_workflow(job.workflow, backend)
        persisted = (spec.get("imagesOutputsToBePersisted") or plan.image_outputs()
                     if spec.get("persistImagesOutputs") else [])
        models = []
        for model_id in sorted(plan.model_ids(params)):
            row = await resolve_model(repo.conn, job.workspace_id, model_id)
            if row is not None:  # one deleted since the job was made: the worker fails the task with the reason
                # under the id the workflow names (an alias), with the registered model's files
                models.append(model_ref(row).model_copy(update={"model_id": model_id}))
        return {
            "kind": job.kind, "workflow": job.workflow, "parameters": params, "persisted_outputs": list(persisted),
            "aggregation_format": aggregation_format(job), "max_video_fps": spec.get("maxVideoFPS"),
            "input_batch_id": job.input_batch_id, "input_part_name": job.input_part_name,
            "metadata_part": job_input.get("imagesMetadataPart"),
            "metadata_mapping": spec.get("imagesMetadataInputsMapping") or {},
            "in_flight": job.workers_per_machine, "output_batch_id": PROCESSING.batch_of(job.job_id),
            "models": models, "workflow_backend": backend,
        }

    async def on_task_started(self, conn: Connection, event: TaskStartedV1 | TaskProgressV1) -> None:
        """A worker runs the task's attempt (or says it still does): the task is running, alive now. An
        event of a superseded attempt, or of a finished task, changes nothing."""
        progress = event.progress if isinstance(event, TaskProgressV1) else 0.0
        await SchedulerRepository(conn).task_alive(event.workspace_id, event.job_id, event.stage_id, event.task_id,
                                                   event.attempt, progress, event.machine_type, event.worker_id)

    async def on_worker_alive(self, conn: Connection, event: WorkerAliveV1) -> None:
        repo = SchedulerRepository(conn)
        if event.leaving:
            await repo.worker_left(event.worker_id)
        else:
            await repo.worker_beat(event.worker_id, event.machine_type)

    # ------------------------------------------------------------------ progress
    async def on_task_done(self, conn: Connection, event: TaskDoneV1) -> None:
        repo = SchedulerRepository(conn)
        job = await repo.get_job(event.workspace_id, event.job_id, lock=True)
        if job is None:
            return
        task = await repo.get_task(job, event.stage_id, event.task_id, lock=True)
        if task is None or task.attempt != event.attempt or task.state not in ("queued", "running"):
            return  # a redelivery, or an attempt superseded by a restart: already applied
        if await repo.record_usage(job, event.task_id, event.attempt, event.machine_type, event.runtime_seconds):
            runtime = await repo.add_runtime(job, event.runtime_seconds)
        else:
            runtime = job.runtime_s
        if job.terminal:
            await repo.finish_task(job, event.stage_id, event.task_id, "aborted", processed=event.files_processed,
                                   failed=event.files_failed, runtime_s=event.runtime_seconds,
                                   machine_type=event.machine_type, error=event.error, worker_id=event.worker_id)
            return
        if event.failed_file_reasons:
            await repo.log(job, "warning", "files-failed", {"failedFiles": [
                {"fileName": f.file_name, "reason": f.reason} for f in event.failed_file_reasons]},
                stage_id=event.stage_id, task_id=event.task_id, module="worker")
        if event.inference:
            await repo.record_inference(job, event.stage_id, event.task_id,
                                        [e.model_dump(mode="json") for e in event.inference])
        row = task_row_after(TaskStatus(event.status), task.attempt, self.settings.max_task_attempts)
        retried, done = row == "pending", row == "succeeded"
        await repo.finish_task(job, event.stage_id, event.task_id, row,
                               processed=0 if retried else event.files_processed,
                               failed=0 if retried else event.files_failed, runtime_s=event.runtime_seconds,
                               machine_type=event.machine_type, error=None if done else event.error,
                               worker_id=event.worker_id, output_bytes=event.output_bytes if done else None,
                               media_seconds=event.media_seconds if done else None,
                               media_seconds_run=event.media_seconds_run if done else None)
        if retried:
            await repo.log(job, "warning", "task-retried", {"attempt": task.attempt, "error": event.error},
                           stage_id=event.stage_id, task_id=event.task_id)
        if row == "failed":
            await self._finish(conn, repo, job, JobState.FAILED,
                               f"task {event.task_id} failed {task.attempt} times: {event.error}")
            return
        total, processed, failed = await repo.file_totals(job, PROCESSING)
        counts = await repo.count_tasks(job, PROCESSING)
        progress = Progress(runtime, job.timeout_s, total, processed, failed, job.max_failure_rate, counts,
                            sample=job.purpose == "estimate")
        reason = limit_passed(progress)
        if reason is not None:
            await self._finish(conn, repo, job, JobState.FAILED, reason)
            return
        if event.stage_id == PROCESSING and job.purpose != "estimate":
            await enqueue(conn, self.prefix, JobProgressV1(
                workspace_id=job.workspace_id, job_id=job.job_id, stage_id=PROCESSING,
                progress=round((processed + failed) / total, 4) if total else 1.0, files_total=total,
                files_processed=processed, files_failed=failed, tasks_total=sum(counts.values()),
                tasks_done=sum(counts.get(s, 0) for s in ENDED), correlation_id=job.job_id), source=SOURCE)
        decided = after_task(progress)
        if decided.action == "fail":
            await self._finish(conn, repo, job, JobState.FAILED, decided.reason)
        elif decided.action == "succeed":  # a sample's: its figures are the answer
            await repo.set_stage_state(job, PROCESSING, "succeeded", {"type": "stage-status", "message": "sample done"})
            await StagingRepository(conn).expire_batch(job.workspace_id, PROCESSING.batch_of(job.job_id))
            await self._finish(conn, repo, job, JobState.SUCCEEDED, None)
        elif decided.action == "export":
            await self._start_export(conn, repo, job)
        else:
            await self._dispatch(conn, repo, job)

    async def _start_export(self, conn: Connection, repo: SchedulerRepository, job: Job) -> None:
        await repo.set_stage_state(job, PROCESSING, "succeeded", {"type": "stage-status", "message": "all tasks done"})
        await repo.set_stage_state(job, EXPORT, "running", {"type": "stage-status", "message": "packing results"})
        await repo.set_job_state(job, JobState.EXPORTING)
        await repo.log(job, "info", "stage-complete", {"stage": PROCESSING}, stage_id=PROCESSING)
        fmt = aggregation_format(job)
        completed = ProcessingCompletedV1(
            workspace_id=job.workspace_id, job_id=job.job_id, results_batch_id=PROCESSING.batch_of(job.job_id),
            export_batch_id=EXPORT.batch_of(job.job_id), aggregation_format=fmt, correlation_id=job.job_id)
        await enqueue_many(conn, self.prefix, [completed, StageCompleteV1.twin_of(completed)], source=SOURCE)
        await enqueue(conn, self.prefix, JobStateChangedV1(workspace_id=job.workspace_id, job_id=job.job_id,
                                                         state=JobState.EXPORTING), source=SOURCE)

    async def on_export_completed(self, conn: Connection, event: ExportCompletedV1) -> None:
        repo = SchedulerRepository(conn)
        job = await repo.get_job(event.workspace_id, event.job_id, lock=True)
        if job is None or job.state != JobState.EXPORTING:
            return  # redelivered, or the job was aborted meanwhile
        if not event.succeeded:
            await self._finish(conn, repo, job, JobState.FAILED, "export failed")
            return
        for archive in event.archives:
            await repo.record_archive_task(job, archive.task_id, archive.files_count)
        await repo.set_stage_state(job, EXPORT, "succeeded", {"type": "stage-status", "message": "archives ready"})
        await self._finish(conn, repo, job, JobState.SUCCEEDED, None)

    # ------------------------------------------------------------------ terminal states
    async def _finish(self, conn: Connection, repo: SchedulerRepository, job: Job, state: JobState,
                      reason: str | None) -> None:
        await repo.set_job_state(job, state, reason)
        if state != JobState.SUCCEEDED:
            await repo.stop_open_tasks(job, "aborted")
            for stage_row in await repo.stages(job):
                # a stage never started stays pending: the job's currentStage is the one it stopped in
                if stage_row["state"] == "running":
                    await repo.set_stage_state(job, stage_row["stage_id"], "aborted" if state == JobState.ABORTED else
                                               "failed", {"type": "stage-status", "message": reason or state})
        await repo.log(job, "error" if state == JobState.FAILED else "info", f"job-{state}", {"reason": reason})
        notification = {"type": "job-state-notification", "state": state, "reason": reason}
        await repo.set_last_notification(job, notification)
        await enqueue(conn, self.prefix, JobStateChangedV1(workspace_id=job.workspace_id, job_id=job.job_id,
                                                         state=state, reason=reason), source=SOURCE)
        if job.notifications_url:
            payload = JobNotificationV1(job_id=job.job_id,
                                        job_state="success" if state == JobState.SUCCEEDED else "fail")
            await enqueue(conn, self.prefix, NotificationRequestedV1(
                workspace_id=job.workspace_id, url=job.notifications_url, category="job-status", subject_kind="job",
                subject_id=job.job_id, payload=payload.model_dump(mode="json"), correlation_id=job.job_id),
                source=SOURCE)
        log.info("job %s %s%s", job.job_id, state, f": {reason}" if reason else "")

    async def abort(self, conn: Connection, ws: Workspace, job_id: str) -> dict[str, Any]:
        repo = SchedulerRepository(conn)
        job = await self._job(repo, ws, job_id)
        if job.terminal:
            return {"status": "ok", "message": f"job already {job.state}", "jobId": job_id}
        await self._finish(conn, repo, job, JobState.ABORTED, "aborted by request")
        return {"status": "ok", "message": "job aborted", "jobId": job_id}

    async def restart(self, conn: Connection, ws: Workspace, job_id: str,
                      override: RestartOverride | None) -> dict[str, Any]:
        repo = SchedulerRepository(conn)
        job = await self._job(repo, ws, job_id, lock=True)
        if not restartable(job.state):
            raise JobNotRestartable(job_id, job.state)
        fields: dict[str, Any] = {}
        if override:
            compute = override.compute_configuration
            if compute and compute.machine_type:
                fields["machine_type"] = compute.machine_type
            if compute and compute.workers_per_machine:
                fields["workers_per_machine"] = compute.workers_per_machine
            if override.max_parallel_tasks:
                fields["max_parallel_tasks"] = override.max_parallel_tasks
            if override.processing_timeout_seconds:
                fields["timeout_s"] = override.processing_timeout_seconds
            if override.max_image_failure_rate is not None:
                fields["max_failure_rate"] = override.max_image_failure_rate
        await repo.apply_overrides(job, override.model_dump(by_alias=True, exclude_none=True) if override else
                                   {"type": "parameters-override-v1"}, **fields)
        reopened = await repo.reopen_unfinished_tasks(job)
        job = await self._job(repo, ws, job_id, lock=True)
        await repo.log(job, "info", "job-restarted", {"tasksToRun": reopened, "overrides": fields})
        if reopened == 0:
            await repo.set_stage_state(job, PROCESSING, "running", {"type": "stage-status", "message": "restarted"})
            await self._start_export(conn, repo, job)
        else:
            await repo.set_job_state(job, JobState.PROCESSING)
            await repo.set_stage_state(job, PROCESSING, "running", {"type": "stage-status", "message": "restarted"})
            await repo.set_stage_state(job, EXPORT, "pending", {})
            await enqueue(conn, self.prefix, JobStateChangedV1(workspace_id=job.workspace_id, job_id=job_id,
                                                             state=JobState.PROCESSING), source=SOURCE)
            await self._dispatch(conn, repo, job)
        return {"status": "ok", "message": f"job restarted; {reopened} unfinished tasks will run", "jobId": job_id}

    async def requeue_stalled(self, conn: Connection, ws_id: str, job_id: str) -> int:
        """A running task whose worker stopped heartbeating (it died, or its task.done was lost with a broker),
        or a queued one that live, idle workers never took (its task.ready was lost), is dispatched again as a
        new attempt: the old attempt's late events are ignored, its results overwritten."""
        repo = SchedulerRepository(conn)
        job = await repo.get_job(ws_id, job_id, lock=True)
        if job is None or job.state != JobState.PROCESSING:
            return 0
        stall = self.settings.task_stall_s
        stalled = await repo.requeue_stalled(job, PROCESSING, stall)
        if stalled:
            await self._stage_ready(conn, job, stalled)
            await repo.log(job, "warning", "tasks-requeued", {
                "tasks": [t for t, _ in stalled], "reason": f"no heartbeat for {stall:.0f}s"}, stage_id=PROCESSING)
        # a queued task nobody took while the workers of its machine type sat idle, or that a task queued after
        # it on its partition passed: its task.ready was lost (a broker that lost its log), and it would wait
        # forever, or until the deployment next stood idle
        forgotten = []
        for reason, found in (
                (f"queued for {stall:.0f}s while no {job.machine_type} worker ran any task",
                 await repo.requeue_forgotten(job, PROCESSING, stall, self.settings.worker_liveness_s)),
                (f"queued for {stall:.0f}s and passed by a task queued after it on its partition",
                 await repo.requeue_passed_over(job, PROCESSING, stall))):
            if found:
                await self._stage_ready(conn, job, found)
                await repo.log(job, "warning", "tasks-requeued", {"tasks": [t for t, _ in found], "reason": reason},
                               stage_id=PROCESSING)
                forgotten += found
        return len(stalled) + len(forgotten)

    async def check_timeout(self, conn: Connection, ws_id: str, job_id: str) -> bool:
        """Fail a processing job whose finished plus running work exceeds its timeout."""
        repo = SchedulerRepository(conn)
        job = await repo.get_job(ws_id, job_id, lock=True)
        if job is None or job.state != JobState.PROCESSING:
            return False
        if timed_out(job.runtime_s, await repo.running_elapsed_s(job), job.timeout_s):
            await self._finish(conn, repo, job, JobState.FAILED, timeout_reason(job.timeout_s))
            return True
        return False

    async def _job(self, repo: SchedulerRepository, ws: Workspace, job_id: str, *, lock: bool = False) -> Job:
        if not looks_like_id(job_id, JOB_ID_MAX):
            raise JobNotFound(job_id)
        job = await repo.get_job(ws.id, job_id, lock=lock)
        if job is None:
            raise JobNotFound(job_id)
        return job
