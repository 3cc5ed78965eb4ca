"""``POST .../jobs/estimate``: run a sample of the batch as a real small job on the job's machine type, wait for
it, and answer with what the whole job would take (scheduler_svc/estimate.py does the arithmetic).

The sample job is listed with the workspace's jobs (``estimate-...``) and billed as what it ran; it is never
exported, sends no notification, and its output batch is expired as soon as it ends.
"""

from __future__ import annotations

import asyncio
import math
import secrets
import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from scheduler_svc import estimate
from scheduler_svc.config import SchedulerSettings
from scheduler_svc.estimate import SampleResult, SampleTask
from scheduler_svc.repository import Job, SchedulerRepository
from scheduler_svc.schemas import JobCreate
from shared.auth import Workspace
from shared.db import Connection, Pool, transaction
from shared.errors import InvalidInput, ServiceError
from shared.events import JobState, StageId

if TYPE_CHECKING:
    from scheduler_svc.service import JobService


class EstimateTimedOut(ServiceError):
    status_code = 503


@dataclass(frozen=True)
class SamplePlan:
    """The tasks of an estimate's sample job: each ``files`` files of the input batch from ``position`` (in file
    order), for videos with the seconds each runs."""

    tasks: list[SampleTask]
    timeout_s: int

    async def insert_tasks(self, conn: Connection, job: Job) -> int:
        result = await conn.execute(
            "INSERT INTO tasks (workspace_id, job_id, stage_id, task_id, seq_from, seq_to, files_count,"
            " sample_seconds)"
            " SELECT $1, $2, $8, 'task-' || lpad(t.i::text, 6, '0'), min(f.seq), max(f.seq), count(*),"
            "  min(t.seconds) FROM unnest($5::bigint[], $6::bigint[], $7::float8[]) WITH ORDINALITY"
            "  AS t(pos, n, seconds, i)"
            " JOIN (SELECT seq, row_number() OVER (ORDER BY seq) - 1 AS r FROM files WHERE workspace_id = $1"
            "       AND batch_id = $3 AND ($4::text IS NULL OR part_name = $4)) f"
            "  ON f.r >= t.pos AND f.r < t.pos + t.n GROUP BY t.i",
            uuid.UUID(job.workspace_id), job.job_id, job.input_batch_id, job.input_part_name,
            [t.position for t in self.tasks], [t.files for t in self.tasks], [t.seconds for t in self.tasks],
            StageId.PROCESSING)
        return int(result.split()[-1])


async def batch_totals(conn: Connection, ws: str, batch_id: str, part: str | None) -> tuple[int, int]:
    """Files of the job's input and their bytes."""
    row = await conn.fetchrow(
        "SELECT count(*) AS n, coalesce(sum(size_bytes), 0) AS bytes FROM files WHERE workspace_id = $1"
        " AND batch_id = $2 AND ($3::text IS NULL OR part_name = $3)", uuid.UUID(ws), batch_id, part)
    return int(row["n"]), int(row["bytes"])


async def sample_workers(conn: Connection, job: Job) -> int:
    """Worker processes that ran the sample's tasks: those the job's tasks would be spread over. Measured, not
    taken from heartbeats, which count a worker for a while after it stopped."""
    return int(await conn.fetchval(
        "SELECT count(DISTINCT worker_id) FROM tasks WHERE workspace_id = $1 AND job_id = $2 AND stage_id = $3",
        uuid.UUID(job.workspace_id), job.job_id, StageId.PROCESSING))


async def sample_results(conn: Connection, job: Job) -> list[SampleResult]:
    rows = await conn.fetch(
        "SELECT t.files_processed, t.files_failed, t.runtime_s, coalesce(t.output_bytes, 0) AS output_bytes,"
        " coalesce(t.media_seconds, 0) AS media_seconds, coalesce(t.media_seconds_run, 0) AS media_seconds_run,"
        " (SELECT coalesce(sum(f.size_bytes), 0) FROM files f WHERE f.workspace_id = t.workspace_id"
        "   AND f.batch_id = $3 AND ($4::text IS NULL OR f.part_name = $4)"
        "   AND f.seq BETWEEN t.seq_from AND t.seq_to) AS input_bytes"
        " FROM tasks t WHERE t.workspace_id = $1 AND t.job_id = $2 AND t.stage_id = $5"
        " AND t.state = 'succeeded' ORDER BY t.task_id",
        uuid.UUID(job.workspace_id), job.job_id, job.input_batch_id, job.input_part_name, StageId.PROCESSING)
    videos = job.kind == "videos"
    # sums of bigint columns come back as numeric (Decimal): the arithmetic is in floats
    return [SampleResult(units=float(r["media_seconds_run"]) if videos else r["files_processed"] + r["files_failed"],
                         runtime_s=float(r["runtime_s"]), processed=r["files_processed"], failed=r["files_failed"],
                         output_bytes=int(r["output_bytes"]), input_bytes=int(r["input_bytes"]),
                         media_seconds=float(r["media_seconds"])) for r in rows]


def planned_tasks(files: int, per_task: int, max_tasks: int) -> int:
    """The tasks the whole job would be split into (repository.plan_tasks's rule, sized by task_size)."""
    return math.ceil(files / per_task) if files <= per_task * max_tasks else max_tasks


async def run_estimate(pool: Pool, service: JobService, ws: Workspace, body: JobCreate) -> dict[str, Any]:
    settings = service.settings
    kind = "videos" if body.type == "simple-video-processing-v1" else "images"
    job_id = f"estimate-{secrets.token_hex(5)}"  # job ids are at most 20 characters
    async with transaction(pool) as conn:
        files, input_bytes = await batch_totals(conn, ws.id, body.job_input.batch_id, body.job_input.part_name)
        plan = SamplePlan(estimate.sample_plan(kind, files, settings.estimate_sample_tasks),
                          timeout_s=math.ceil(settings.estimate_wait_s))
        job = await service.create_job(conn, ws, job_id, body, f"estimate of {body.job_input.batch_id}", plan)
    job = await _wait(pool, ws, job_id, settings.estimate_wait_s, service)
    if job.state != JobState.SUCCEEDED:
        raise InvalidInput(f"the estimate's sample job {job_id} {job.state}: {job.reason}")
    async with pool.acquire() as conn:
        sample = await sample_results(conn, job)
        tasks = planned_tasks(files, *settings.task_size(kind))
        workers = max(await sample_workers(conn, job), 1)
        billed = await SchedulerRepository(conn).billed_hours(job)
    whole = estimate.Job(kind=kind, files=files, input_bytes=input_bytes, tasks=tasks,
                         parallel=min(job.max_parallel_tasks, workers, tasks))
    return _answer(job, whole, sample, estimate.predict(whole, sample), billed, settings)


async def _wait(pool: Pool, ws: Workspace, job_id: str, wait_s: float, service: JobService) -> Job:
    deadline = time.monotonic() + wait_s
    while True:
        async with pool.acquire() as conn:
            job = await SchedulerRepository(conn).get_job(ws.id, job_id)
        assert job is not None
        if job.state.terminal:
            return job
        if time.monotonic() > deadline:
            async with transaction(pool) as conn:
                await service.abort(conn, ws, job_id)
            raise EstimateTimedOut(f"the estimate's sample job {job_id} did not end within {wait_s:.0f}s (are "
                                   f"{job.machine_type} workers running, or busy with other jobs?); it was aborted")
        await asyncio.sleep(0.1)


def _answer(job: Job, whole: estimate.Job, sample: list[SampleResult], p: estimate.Prediction,
            billed: dict[str, float], settings: SchedulerSettings) -> dict[str, Any]:
    hours = p.runtime_s.scaled(1 / 3600)
    price = next((v for k, v in settings.machine_hour_prices.items() if k == job.machine_type), None)
    return {
        "estimateJobId": job.job_id, "machineType": job.machine_type, "files": whole.files,
        "inputBytes": whole.input_bytes, "videoSeconds": round(p.units, 3) if whole.kind == "videos" else None,
        "tasks": whole.tasks, "parallelTasks": whole.parallel,
        "sample": {"tasks": len(sample), "files": sum(s.processed + s.failed for s in sample),
                   "videoSecondsRun": round(sum(s.units for s in sample), 3) if whole.kind == "videos" else None,
                   "runtimeSeconds": round(sum(s.runtime_s for s in sample), 3), "billedMachineHours": billed},
        "runtimeSeconds": p.runtime_s.as_json(3), "machineHours": hours.as_json(9),
        "processingWallSeconds": p.wall_s.as_json(3),
        "cost": None if price is None else {**hours.scaled(price).as_json(9), "unit": settings.cost_unit,
                                            "pricePerMachineHour": price},
        "failureRate": p.failure_rate.as_json(4), "outputBytes": p.output_bytes.as_json(0),
        "recommendedProcessingTimeoutSeconds": p.recommended_timeout_s(),
    }
