"""All SQL of scheduler_svc: workflows, models, jobs, stages, tasks, logs and machine usage."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from shared.events import JobState, ModelRef

TERMINAL = tuple(state for state in JobState if state.terminal)
# task ids are 'task-' and six digits
MAX_TASKS = 999_999


@dataclass(frozen=True)
class Job:
    workspace_id: str
    job_id: str
    name: str
    kind: str
    definition: dict[str, Any]
    workflow: dict[str, Any]
    input_batch_id: str
    input_part_name: str | None
    state: JobState
    reason: str | None
    machine_type: str
    workers_per_machine: int
    timeout_s: int
    max_parallel_tasks: int
    max_failure_rate: float | None
    notifications_url: str | None
    runtime_s: float
    restart_overrides: list[dict[str, Any]]
    last_notification: dict[str, Any] | None
    created_at: datetime
    updated_at: datetime
    purpose: str = "run"  # "estimate": a sample run for an estimate (scheduler_svc/estimates.py), never exported

    @property
    def terminal(self) -> bool:
        return self.state.terminal


@dataclass(frozen=True)
class Task:
    stage_id: str
    task_id: str
    seq_from: int
    seq_to: int
    files_count: int
    state: str
    attempt: int
    progress: float | None
    files_processed: int
    files_failed: int
    runtime_s: float
    error: str | None
    updated_at: datetime
    output_bytes: int | None = None  # of the results (and images) it wrote; None before it succeeds


_JOB_COLS = ("workspace_id, job_id, name, kind, definition, workflow, input_batch_id, input_part_name, state, reason,"
             " machine_type, workers_per_machine, timeout_s, max_parallel_tasks, max_failure_rate, notifications_url,"
             " runtime_s, restart_overrides, last_notification, created_at, updated_at, purpose")
_TASK_COLS = ("stage_id, task_id, seq_from, seq_to, files_count, state, attempt, progress, files_processed,"
              " files_failed, runtime_s, error, updated_at, output_bytes")


def _job(row: asyncpg.Record) -> Job:
    return Job(**{**dict(row), "workspace_id": str(row["workspace_id"]), "state": JobState(row["state"])})


def model_ref(row: asyncpg.Record) -> ModelRef:
    return ModelRef(model_id=row["model_id"], object_key=row["object_key"], sha256=row["sha256"], task=row["task"],
                    layout=row["layout"], class_names=list(row["class_names"]), input_size=row["input_size"],
                    keypoint_names=list(row["keypoint_names"]))


def _uuid(ws: str) -> uuid.UUID:
    return uuid.UUID(ws)


class SchedulerRepository:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn

    # ------------------------------------------------------------------ workflows
    async def upsert_workflow(self, ws: str, workflow_id: str, specification: dict[str, Any]) -> None:
        await self.conn.execute(
            "INSERT INTO workflows (workspace_id, workflow_id, specification) VALUES ($1, $2, $3)"
            " ON CONFLICT (workspace_id, workflow_id) DO UPDATE SET specification = $3, updated_at = now()",
            _uuid(ws), workflow_id, specification)

    async def get_workflow(self, ws: str, workflow_id: str) -> asyncpg.Record | None:
        return await self.conn.fetchrow(
            "SELECT workflow_id, specification, created_at, updated_at FROM workflows"
            " WHERE workspace_id = $1 AND workflow_id = $2", _uuid(ws), workflow_id)

    async def list_workflows(self, ws: str, limit: int, after: str) -> list[asyncpg.Record]:
        return await self.conn.fetch(
            "SELECT workflow_id, specification, created_at, updated_at FROM workflows WHERE workspace_id = $1"
            " AND workflow_id > $2 ORDER BY workflow_id LIMIT $3", _uuid(ws), after, limit)

    async def delete_workflow(self, ws: str, workflow_id: str) -> bool:
        result = await self.conn.execute("DELETE FROM workflows WHERE workspace_id = $1 AND workflow_id = $2",
                                         _uuid(ws), workflow_id)
        return result.endswith(" 1")

    # ------------------------------------------------------------------ models
    async def upsert_model(self, ws: str | None, model_id: str, *, task: str, layout: str, class_names: list[str],
                           input_size: int, object_key: str, sha256: str, keypoint_names: list[str] | None = None,
                           ) -> None:
        await self.conn.execute(
            "INSERT INTO models (workspace_id, model_id, task, layout, class_names, input_size, object_key, sha256,"
            " keypoint_names) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (workspace_id, model_id)"
            " DO UPDATE SET task = $3, layout = $4, class_names = $5, input_size = $6, object_key = $7, sha256 = $8,"
            " keypoint_names = $9, created_at = now()",
            _uuid(ws) if ws else None, model_id, task, layout, class_names, input_size, object_key, sha256,
            keypoint_names or [])

    async def shared_model_digest(self, model_id: str) -> str | None:
        return await self.conn.fetchval(
            "SELECT sha256 FROM models WHERE workspace_id IS NULL AND model_id = $1", model_id)

    async def get_model(self, ws: str, model_id: str) -> asyncpg.Record | None:
        """The workspace's own model of that id, else a shared one."""
        return await self.conn.fetchrow(
            "SELECT workspace_id, model_id, task, layout, class_names, input_size, object_key, sha256, created_at,"
            " keypoint_names"
            " FROM models WHERE model_id = $2 AND (workspace_id = $1 OR workspace_id IS NULL)"
            " ORDER BY workspace_id NULLS LAST LIMIT 1", _uuid(ws), model_id)

    async def list_models(self, ws: str) -> list[asyncpg.Record]:
        return await self.conn.fetch(
            "SELECT workspace_id, model_id, task, layout, class_names, input_size, object_key, sha256, created_at,"
            " keypoint_names"
            " FROM models WHERE workspace_id = $1 OR workspace_id IS NULL ORDER BY model_id", _uuid(ws))

    # ------------------------------------------------------------------ jobs
    async def insert_job(self, ws: str, job_id: str, **fields: Any) -> bool:
        cols = ["workspace_id", "job_id", *fields]
        values = [_uuid(ws), job_id, *fields.values()]
        marks = ", ".join(f"${i + 1}" for i in range(len(values)))
        result = await self.conn.execute(
            f"INSERT INTO jobs ({', '.join(cols)}) VALUES ({marks}) ON CONFLICT DO NOTHING", *values)
        return result.endswith(" 1")

    async def get_job(self, ws: str, job_id: str, *, lock: bool = False) -> Job | None:
        row = await self.conn.fetchrow(
            f"SELECT {_JOB_COLS} FROM jobs WHERE workspace_id = $1 AND job_id = $2" + (" FOR UPDATE" if lock else ""),
            _uuid(ws), job_id)
        return _job(row) if row else None

    async def list_jobs(self, ws: str, limit: int, after: tuple[datetime, str] | None,
                        search: str | None = None) -> list[Job]:
        """Newest first; ``search``: jobs whose id, name or workflow id contains it (any case), or whose state
        it is."""
        pattern = None if not search else "%" + search.replace("\\", "\\\\").replace("%", "\\%").replace(
            "_", "\\_") + "%"
        rows = await self.conn.fetch(
            f"SELECT {_JOB_COLS} FROM jobs WHERE workspace_id = $1"
            " AND ($2::timestamptz IS NULL OR (created_at, job_id) < ($2, $3))"
            " AND ($5::text IS NULL OR job_id ILIKE $5 OR name ILIKE $5"
            "  OR definition->'processingSpecification'->>'workflowId' ILIKE $5 OR state = lower($6))"
            " ORDER BY created_at DESC, job_id LIMIT $4",
            _uuid(ws), after[0] if after else None, after[1] if after else "", limit, pattern, search or "")
        return [_job(r) for r in rows]

    async def active_jobs(self) -> list[tuple[str, str]]:
        rows = await self.conn.fetch("SELECT workspace_id, job_id FROM jobs WHERE state = 'processing'")
        return [(str(r["workspace_id"]), r["job_id"]) for r in rows]

    async def queue_stats(self) -> list[tuple[str, int, float]]:
        """(machine type, queued tasks, age in seconds of the oldest) - the task queues' lag."""
        rows = await self.conn.fetch(
            "SELECT j.machine_type, count(*) AS depth, EXTRACT(EPOCH FROM now() - min(t.updated_at)) AS age"
            " FROM tasks t JOIN jobs j USING (workspace_id, job_id) WHERE t.state = 'queued' GROUP BY j.machine_type")
        return [(r["machine_type"], r["depth"], float(r["age"] or 0)) for r in rows]

    async def jobs_by_state(self) -> dict[str, int]:
        rows = await self.conn.fetch("SELECT state, count(*) AS n FROM jobs GROUP BY state")
        return {r["state"]: r["n"] for r in rows}

    async def set_job_state(self, job: Job, state: JobState, reason: str | None = None) -> None:
        await self.conn.execute(
            "UPDATE jobs SET state = $3, reason = $4, updated_at = now() WHERE workspace_id = $1 AND job_id = $2",
            _uuid(job.workspace_id), job.job_id, state, reason)

    async def set_last_notification(self, job: Job, notification: dict[str, Any]) -> None:
        await self.conn.execute(
            "UPDATE jobs SET last_notification = $3, updated_at = now() WHERE workspace_id = $1 AND job_id = $2",
            _uuid(job.workspace_id), job.job_id, notification)

    async def apply_overrides(self, job: Job, override: dict[str, Any], **fields: Any) -> None:
        sets = ", ".join(f"{k} = ${i + 4}" for i, k in enumerate(fields))
        await self.conn.execute(
            "UPDATE jobs SET restart_overrides = restart_overrides || $3::jsonb, updated_at = now()"
            + (f", {sets}" if sets else "") + " WHERE workspace_id = $1 AND job_id = $2",
            _uuid(job.workspace_id), job.job_id, [override], *fields.values())

    async def add_runtime(self, job: Job, seconds: float) -> float:
        return await self.conn.fetchval(
            "UPDATE jobs SET runtime_s = runtime_s + $3, updated_at = now() WHERE workspace_id = $1 AND job_id = $2"
            " RETURNING runtime_s", _uuid(job.workspace_id), job.job_id, seconds)

    # ------------------------------------------------------------------ stages
    async def insert_stage(self, job: Job, stage_id: str, name: str, position: int, output_batch_id: str,
                           state: str) -> None:
        await self.conn.execute(
            "INSERT INTO job_stages (workspace_id, job_id, stage_id, stage_name, position, output_batch_id, state,"
            " started_at) VALUES ($1, $2, $3, $4, $5, $6, $7, CASE WHEN $7 = 'running' THEN now() END)"
            " ON CONFLICT DO NOTHING",
            _uuid(job.workspace_id), job.job_id, stage_id, name, position, output_batch_id, state)

    async def stages(self, job: Job) -> list[asyncpg.Record]:
        return await self.conn.fetch(
            "SELECT s.stage_id, s.stage_name, s.position, s.output_batch_id, s.state, s.notification, s.started_at,"
            " s.updated_at, (SELECT count(*) FROM tasks t WHERE t.workspace_id = s.workspace_id"
            "  AND t.job_id = s.job_id AND t.stage_id = s.stage_id) AS tasks_number"
            " FROM job_stages s WHERE s.workspace_id = $1 AND s.job_id = $2 ORDER BY s.position",
            _uuid(job.workspace_id), job.job_id)

    async def set_stage_state(self, job: Job, stage_id: str, state: str, notification: dict[str, Any]) -> None:
        await self.conn.execute(
            "UPDATE job_stages SET state = $4, notification = $5, updated_at = now(),"
            " started_at = coalesce(started_at, CASE WHEN $4 = 'running' THEN now() END)"
            " WHERE workspace_id = $1 AND job_id = $2 AND stage_id = $3",
            _uuid(job.workspace_id), job.job_id, stage_id, state, notification)

    # ------------------------------------------------------------------ tasks
    async def plan_tasks(self, job: Job, stage_id: str, files_per_task: int, max_tasks: int) -> int:
        """Split the input batch into tasks of consecutive files, in one statement: ``files_per_task`` each, or
        as many more as keep the tasks at ``max_tasks`` (the files then spread evenly, so no task is a runt)."""
        result = await self.conn.execute(
            "INSERT INTO tasks (workspace_id, job_id, stage_id, task_id, seq_from, seq_to, files_count)"
            " SELECT $1, $2, $3, 'task-' || lpad(chunk::text, 6, '0'), min(seq), max(seq), count(*) FROM ("
            "   SELECT seq, CASE WHEN n <= $6::bigint * $7 THEN i / $6 ELSE i * $7 / n END AS chunk FROM ("
            "     SELECT seq, row_number() OVER (ORDER BY seq) - 1 AS i, count(*) OVER () AS n FROM files"
            "     WHERE workspace_id = $1 AND batch_id = $4 AND ($5::text IS NULL OR part_name = $5)) numbered) f"
            " GROUP BY chunk",
            _uuid(job.workspace_id), job.job_id, stage_id, job.input_batch_id, job.input_part_name, files_per_task,
            max_tasks)
        return int(result.split()[-1])

    async def insert_task(self, job: Job, stage_id: str, task_id: str, state: str, files_count: int) -> None:
        await self.conn.execute(
            "INSERT INTO tasks (workspace_id, job_id, stage_id, task_id, seq_from, seq_to, files_count, state,"
            " progress) VALUES ($1, $2, $3, $4, 0, 0, $5, $6, 1.0) ON CONFLICT DO NOTHING",
            _uuid(job.workspace_id), job.job_id, stage_id, task_id, files_count, state)

    async def record_archive_task(self, job: Job, task_id: str, files_count: int) -> None:
        """One archive of the export stage, made by export_svc: a finished task of that stage."""
        await self.conn.execute(
            "INSERT INTO tasks (workspace_id, job_id, stage_id, task_id, seq_from, seq_to, files_count, state,"
            " attempt, progress, files_processed) VALUES ($1, $2, 'export', $3, 0, 0, $4, 'succeeded', 1, 1.0, $4)"
            " ON CONFLICT DO NOTHING", _uuid(job.workspace_id), job.job_id, task_id, files_count)

    async def task_ranges(self, job: Job, stage_id: str, task_ids: list[str]
                          ) -> dict[str, tuple[int, int, float | None]]:
        """Each task's files (``seq`` from..to) and, for an estimate's sampled video, the seconds it runs."""
        rows = await self.conn.fetch(
            "SELECT task_id, seq_from, seq_to, sample_seconds FROM tasks WHERE workspace_id = $1 AND job_id = $2"
            " AND stage_id = $3 AND task_id = ANY($4::text[])", _uuid(job.workspace_id), job.job_id, stage_id,
            task_ids)
        return {r["task_id"]: (r["seq_from"], r["seq_to"], r["sample_seconds"]) for r in rows}

    async def task_alive(self, ws: str, job_id: str, stage_id: str, task_id: str, attempt: int, progress: float,
                         machine_type: str, worker_id: str) -> None:
        """The attempt runs (a worker said so): running since its first word, progress and heartbeat now."""
        await self.conn.execute(
            "UPDATE tasks SET started_at = CASE WHEN state = 'queued' THEN now() ELSE started_at END,"
            " state = 'running', progress = greatest(coalesce(progress, 0), $6), machine_type = $7, worker_id = $8,"
            " updated_at = now() WHERE workspace_id = $1 AND job_id = $2 AND stage_id = $3 AND task_id = $4"
            " AND attempt = $5 AND state IN ('queued', 'running')", _uuid(ws), job_id, stage_id, task_id, attempt,
            progress, machine_type, worker_id)

    async def requeue_stalled(self, job: Job, stage_id: str, stall_s: float) -> list[tuple[str, int]]:
        rows = await self.conn.fetch(
            "UPDATE tasks SET state = 'queued', attempt = attempt + 1, updated_at = now(), progress = 0"
            " WHERE workspace_id = $1 AND job_id = $2 AND stage_id = $3 AND state = 'running'"
            " AND updated_at < now() - make_interval(secs => $4) RETURNING task_id, attempt",
            _uuid(job.workspace_id), job.job_id, stage_id, stall_s)
        return sorted((r["task_id"], r["attempt"]) for r in rows)

    async def requeue_forgotten(self, job: Job, stage_id: str, stall_s: float,
                                liveness_s: float) -> list[tuple[str, int]]:
        """Queued tasks older than ``stall_s`` while workers of the job's machine type are live and run nothing."""
        rows = await self.conn.fetch(
            "UPDATE tasks SET attempt = attempt + 1, updated_at = now() WHERE workspace_id = $1 AND job_id = $2"
            " AND stage_id = $3 AND state = 'queued' AND updated_at < now() - make_interval(secs => $4)"
            " AND EXISTS (SELECT 1 FROM worker_heartbeats w WHERE w.machine_type = $5"
            "   AND w.beat_at > now() - make_interval(secs => $6))"
            " AND NOT EXISTS (SELECT 1 FROM tasks r JOIN jobs j USING (workspace_id, job_id)"
            "   WHERE r.state = 'running' AND j.machine_type = $5)"
            " RETURNING task_id, attempt",
            _uuid(job.workspace_id), job.job_id, stage_id, stall_s, job.machine_type, liveness_s)
        return sorted((r["task_id"], r["attempt"]) for r in rows)

    async def requeue_passed_over(self, job: Job, stage_id: str, stall_s: float) -> list[tuple[str, int]]:
        """Queued tasks older than ``stall_s`` that a task queued after them on their partition passed: it
        started ``stall_s / 2`` ago (time for a delivered task's own start to be heard), whatever else runs."""
        rows = await self.conn.fetch(
            "UPDATE tasks t SET attempt = attempt + 1, updated_at = now() WHERE workspace_id = $1 AND job_id = $2"
            " AND stage_id = $3 AND state = 'queued' AND updated_at < now() - make_interval(secs => $4)"
            " AND EXISTS (SELECT 1 FROM tasks u WHERE u.queue_partition = t.queue_partition"
            "   AND u.queued_at > t.queued_at AND u.machine_type = $5 AND u.started_at >= u.queued_at"
            "   AND u.started_at < now() - make_interval(secs => $4 / 2))"
            " RETURNING task_id, attempt",
            _uuid(job.workspace_id), job.job_id, stage_id, stall_s, job.machine_type)
        return sorted((r["task_id"], r["attempt"]) for r in rows)

    async def mark_queued(self, job: Job, stage_id: str, partitions: dict[str, int]) -> None:
        """Where each task's task.ready goes, and since when (what ``requeue_passed_over`` compares)."""
        await self.conn.execute(
            "UPDATE tasks SET queue_partition = p.partition, queued_at = now() FROM unnest($4::text[], $5::int[])"
            " AS p(task_id, partition) WHERE tasks.workspace_id = $1 AND tasks.job_id = $2 AND tasks.stage_id = $3"
            " AND tasks.task_id = p.task_id", _uuid(job.workspace_id), job.job_id, stage_id, list(partitions),
            list(partitions.values()))

    async def claim_for_dispatch(self, job: Job, stage_id: str, limit: int) -> list[tuple[str, int]]:
        rows = await self.conn.fetch(
            "UPDATE tasks SET state = 'queued', attempt = attempt + 1, updated_at = now(), progress = 0"
            " WHERE (workspace_id, job_id, stage_id, task_id) IN (SELECT workspace_id, job_id, stage_id, task_id"
            "   FROM tasks WHERE workspace_id = $1 AND job_id = $2 AND stage_id = $3 AND state = 'pending'"
            "   ORDER BY task_id LIMIT $4 FOR UPDATE SKIP LOCKED) RETURNING task_id, attempt",
            _uuid(job.workspace_id), job.job_id, stage_id, limit)
        return sorted((r["task_id"], r["attempt"]) for r in rows)

    async def count_tasks(self, job: Job, stage_id: str) -> dict[str, int]:
        rows = await self.conn.fetch(
            "SELECT state, count(*) AS n FROM tasks WHERE workspace_id = $1 AND job_id = $2 AND stage_id = $3"
            " GROUP BY state", _uuid(job.workspace_id), job.job_id, stage_id)
        return {r["state"]: r["n"] for r in rows}

    async def file_totals(self, job: Job, stage_id: str) -> tuple[int, int, int]:
        row = await self.conn.fetchrow(
            "SELECT coalesce(sum(files_count), 0) AS total, coalesce(sum(files_processed), 0) AS processed,"
            " coalesce(sum(files_failed), 0) AS failed FROM tasks WHERE workspace_id = $1 AND job_id = $2"
            " AND stage_id = $3", _uuid(job.workspace_id), job.job_id, stage_id)
        return int(row["total"]), int(row["processed"]), int(row["failed"])

    async def get_task(self, job: Job, stage_id: str, task_id: str, *, lock: bool = False) -> Task | None:
        row = await self.conn.fetchrow(
            f"SELECT {_TASK_COLS} FROM tasks WHERE workspace_id = $1 AND job_id = $2 AND stage_id = $3"
            " AND task_id = $4" + (" FOR UPDATE" if lock else ""),
            _uuid(job.workspace_id), job.job_id, stage_id, task_id)
        return Task(**dict(row)) if row else None

    async def finish_task(self, job: Job, stage_id: str, task_id: str, state: str, *, processed: int, failed: int,
                          runtime_s: float, machine_type: str | None, error: str | None,
                          worker_id: str | None = None, output_bytes: int | None = None,
                          media_seconds: float | None = None, media_seconds_run: float | None = None) -> None:
        await self.conn.execute(
            "UPDATE tasks SET state = $5, files_processed = $6, files_failed = $7, runtime_s = runtime_s + $8,"
            " machine_type = $9, error = $10, progress = CASE WHEN $5 = 'succeeded' THEN 1.0 ELSE progress END,"
            " worker_id = coalesce($11, worker_id), output_bytes = $12, media_seconds = $13,"
            " media_seconds_run = $14, updated_at = now()"
            " WHERE workspace_id = $1 AND job_id = $2 AND stage_id = $3 AND task_id = $4",
            _uuid(job.workspace_id), job.job_id, stage_id, task_id, state, processed, failed, runtime_s,
            machine_type, error, worker_id, output_bytes, media_seconds, media_seconds_run)

    async def list_tasks(self, job: Job, stage_id: str, limit: int, after: str | None) -> list[Task]:
        rows = await self.conn.fetch(
            f"SELECT {_TASK_COLS} FROM tasks WHERE workspace_id = $1 AND job_id = $2 AND stage_id = $3"
            " AND task_id > $4 ORDER BY task_id LIMIT $5",
            _uuid(job.workspace_id), job.job_id, stage_id, after or "", limit)
        return [Task(**dict(r)) for r in rows]

    async def stop_open_tasks(self, job: Job, state: str) -> None:
        await self.conn.execute(
            "UPDATE tasks SET state = $3, updated_at = now() WHERE workspace_id = $1 AND job_id = $2"
            " AND state IN ('pending', 'queued', 'running')", _uuid(job.workspace_id), job.job_id, state)

    async def reopen_unfinished_tasks(self, job: Job) -> int:
        result = await self.conn.execute(
            "UPDATE tasks SET state = 'pending', attempt = 0, error = NULL, progress = NULL, updated_at = now()"
            " WHERE workspace_id = $1 AND job_id = $2 AND stage_id = 'processing' AND state <> 'succeeded'",
            _uuid(job.workspace_id), job.job_id)
        return int(result.split()[-1])

    async def running_elapsed_s(self, job: Job) -> float:
        return float(await self.conn.fetchval(
            "SELECT coalesce(sum(extract(epoch FROM now() - started_at)), 0) FROM tasks WHERE workspace_id = $1"
            " AND job_id = $2 AND state = 'running' AND started_at IS NOT NULL",
            _uuid(job.workspace_id), job.job_id))

    async def progress(self, job: Job) -> float:
        value = await self.conn.fetchval(
            "SELECT sum(files_count * CASE WHEN state = 'succeeded' THEN 1 ELSE coalesce(progress, 0) END)"
            " / nullif(sum(files_count), 0) FROM tasks WHERE workspace_id = $1 AND job_id = $2"
            " AND stage_id = 'processing'", _uuid(job.workspace_id), job.job_id)
        return float(value or 0.0)

    # ------------------------------------------------------------------ workers
    async def worker_beat(self, worker_id: str, machine_type: str) -> None:
        await self.conn.execute(
            "INSERT INTO worker_heartbeats (worker_id, machine_type) VALUES ($1, $2)"
            " ON CONFLICT (worker_id) DO UPDATE SET beat_at = now(), machine_type = $2", worker_id, machine_type)
        # rows of workers that vanished without saying goodbye (kill -9) are dropped after a day
        await self.conn.execute("DELETE FROM worker_heartbeats WHERE beat_at < now() - interval '1 day'")

    async def worker_left(self, worker_id: str) -> None:
        await self.conn.execute("DELETE FROM worker_heartbeats WHERE worker_id = $1", worker_id)

    async def live_machine_types(self, liveness_s: float) -> set[str]:
        rows = await self.conn.fetch(
            "SELECT DISTINCT machine_type FROM worker_heartbeats WHERE beat_at > now() - make_interval(secs => $1)",
            liveness_s)
        return {r["machine_type"] for r in rows}

    async def queued_wait_s(self, job: Job) -> float:
        """Seconds the job's longest-waiting queued task has waited (0 when none is queued)."""
        value = await self.conn.fetchval(
            "SELECT EXTRACT(EPOCH FROM now() - min(updated_at)) FROM tasks WHERE workspace_id = $1"
            " AND job_id = $2 AND state = 'queued'", _uuid(job.workspace_id), job.job_id)
        return float(value or 0.0)

    async def move_queued(self, job: Job, machine_type: str) -> list[tuple[str, int]]:
        """Switch the job to another machine type; its queued tasks become new attempts to dispatch there."""
        await self.conn.execute("UPDATE jobs SET machine_type = $3, updated_at = now() WHERE workspace_id = $1"
                                " AND job_id = $2", _uuid(job.workspace_id), job.job_id, machine_type)
        rows = await self.conn.fetch(
            "UPDATE tasks SET attempt = attempt + 1, updated_at = now() WHERE workspace_id = $1 AND job_id = $2"
            " AND state = 'queued' RETURNING task_id, attempt", _uuid(job.workspace_id), job.job_id)
        return sorted((r["task_id"], r["attempt"]) for r in rows)

    # ------------------------------------------------------------------ logs and usage
    async def log(self, job: Job, severity: str, log_type: str, payload: dict[str, Any], *,
                  stage_id: str | None = None, task_id: str | None = None, module: str = "scheduler") -> None:
        await self.conn.execute(
            "INSERT INTO job_logs (workspace_id, job_id, stage_id, task_id, severity, reporting_module, log_type,"
            " payload) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            _uuid(job.workspace_id), job.job_id, stage_id, task_id, severity, module, log_type, payload)

    async def logs(self, job: Job, severity: str | None, limit: int, after_id: int) -> list[asyncpg.Record]:
        return await self.conn.fetch(
            "SELECT id, created_at, stage_id, task_id, severity, reporting_module, log_type, payload FROM job_logs"
            " WHERE workspace_id = $1 AND job_id = $2 AND ($3::text IS NULL OR severity = $3) AND id > $4"
            " ORDER BY id LIMIT $5", _uuid(job.workspace_id), job.job_id, severity, after_id, limit)

    async def record_usage(self, job: Job, task_id: str, attempt: int, machine_type: str, seconds: float) -> bool:
        result = await self.conn.execute(
            "INSERT INTO machine_usage (workspace_id, job_id, task_id, attempt, machine_type, seconds)"
            " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
            _uuid(job.workspace_id), job.job_id, task_id, attempt, machine_type, seconds)
        return result.endswith(" 1")

    async def record_inference(self, job: Job, stage_id: str, task_id: str, inference: list[dict[str, Any]]) -> None:
        await self.conn.execute(
            "UPDATE tasks SET inference = $5 WHERE workspace_id = $1 AND job_id = $2 AND stage_id = $3"
            " AND task_id = $4", _uuid(job.workspace_id), job.job_id, stage_id, task_id, inference)

    async def inference(self, job: Job) -> list[dict[str, Any]]:
        """How the job's models ran, each way with the files its tasks processed."""
        rows = await self.conn.fetch(
            "SELECT e->>'model_id' AS model_id, e->>'sha256' AS sha256, e->>'runtime' AS runtime,"
            " e->>'precision' AS precision, e->>'device' AS device, sum(t.files_processed) AS files"
            " FROM tasks t, jsonb_array_elements(t.inference) e WHERE t.workspace_id = $1 AND t.job_id = $2"
            " AND t.inference IS NOT NULL GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 3, 4",
            _uuid(job.workspace_id), job.job_id)
        return [{"modelId": r["model_id"], "sha256": r["sha256"], "runtime": r["runtime"],
                 "precision": r["precision"], "device": r["device"], "filesProcessed": int(r["files"])}
                for r in rows]

    async def billed_hours(self, job: Job) -> dict[str, float]:
        rows = await self.conn.fetch(
            "SELECT machine_type, sum(seconds) / 3600.0 AS hours FROM machine_usage WHERE workspace_id = $1"
            " AND job_id = $2 GROUP BY machine_type", _uuid(job.workspace_id), job.job_id)
        return {r["machine_type"]: round(float(r["hours"]), 6) for r in rows}
