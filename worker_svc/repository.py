"""All SQL of worker_svc: the task and job it runs (read), live progress, and the task's input files."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import asyncpg


@dataclass(frozen=True)
class JobView:
    state: str
    kind: str
    definition: dict[str, Any]
    workflow: dict[str, Any]
    input_batch_id: str
    input_part_name: str | None
    # the job's workersPerMachine (0: not given): images of one task in the workflow at once
    workers_per_machine: int


@dataclass(frozen=True)
class TaskView:
    state: str
    attempt: int
    seq_from: int
    seq_to: int


class WorkerRepository:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn

    async def job(self, ws: str, job_id: str) -> JobView | None:
        row = await self.conn.fetchrow(
            "SELECT state, kind, definition, workflow, input_batch_id, input_part_name, workers_per_machine FROM jobs"
            " WHERE workspace_id = $1 AND job_id = $2", uuid.UUID(ws), job_id)
        return JobView(**dict(row)) if row else None

    async def job_state(self, ws: str, job_id: str) -> str | None:
        return await self.conn.fetchval("SELECT state FROM jobs WHERE workspace_id = $1 AND job_id = $2",
                                        uuid.UUID(ws), job_id)

    async def task(self, ws: str, job_id: str, stage_id: str, task_id: str) -> TaskView | None:
        row = await self.conn.fetchrow(
            "SELECT state, attempt, seq_from, seq_to FROM tasks WHERE workspace_id = $1 AND job_id = $2"
            " AND stage_id = $3 AND task_id = $4", uuid.UUID(ws), job_id, stage_id, task_id)
        return TaskView(**dict(row)) if row else None

    async def heartbeat(self, ws: str, job_id: str, stage_id: str, task_id: str, attempt: int) -> None:
        await self.conn.execute(
            "UPDATE tasks SET updated_at = now() WHERE workspace_id = $1 AND job_id = $2 AND stage_id = $3"
            " AND task_id = $4 AND attempt = $5 AND state = 'running'",
            uuid.UUID(ws), job_id, stage_id, task_id, attempt)

    async def mark_running(self, ws: str, job_id: str, stage_id: str, task_id: str, attempt: int,
                           machine_type: str) -> bool:
        result = await self.conn.execute(
            "UPDATE tasks SET state = 'running', started_at = now(), progress = 0, machine_type = $6,"
            " updated_at = now() WHERE workspace_id = $1 AND job_id = $2 AND stage_id = $3 AND task_id = $4"
            " AND attempt = $5 AND state IN ('queued', 'running')",
            uuid.UUID(ws), job_id, stage_id, task_id, attempt, machine_type)
        return result.endswith(" 1")

    async def set_progress(self, ws: str, job_id: str, stage_id: str, task_id: str, attempt: int,
                           progress: float) -> None:
        await self.conn.execute(
            "UPDATE tasks SET progress = $6, updated_at = now() WHERE workspace_id = $1 AND job_id = $2"
            " AND stage_id = $3 AND task_id = $4 AND attempt = $5 AND state = 'running'",
            uuid.UUID(ws), job_id, stage_id, task_id, attempt, progress)

    async def input_files(self, ws: str, batch_id: str, part_name: str | None, seq_from: int,
                          seq_to: int, metadata_part: str | None = None) -> list[asyncpg.Record]:
        """The task's files in order, each with its metadata object of ``metadata_part`` (NULL if none)."""
        return await self.conn.fetch(
            "SELECT f.file_name, f.object_key, f.byte_offset, f.size_bytes, f.content_type, m.metadata FROM files f"
            " LEFT JOIN file_metadata m ON m.workspace_id = f.workspace_id AND m.batch_id = f.batch_id"
            "  AND m.part_name = $6 AND m.file_name = f.file_name"
            " WHERE f.workspace_id = $1 AND f.batch_id = $2"
            " AND ($3::text IS NULL OR f.part_name = $3) AND f.seq BETWEEN $4 AND $5 ORDER BY f.seq",
            uuid.UUID(ws), batch_id, part_name, seq_from, seq_to, metadata_part)

    async def beat(self, worker_id: str, machine_type: str) -> None:
        await self.conn.execute(
            "INSERT INTO worker_heartbeats (worker_id, machine_type) VALUES ($1, $2)"
            " ON CONFLICT (worker_id) DO UPDATE SET beat_at = now(), machine_type = $2", worker_id, machine_type)
        # rows of workers that vanished without saying goodbye (kill -9) are dropped after a day
        await self.conn.execute("DELETE FROM worker_heartbeats WHERE beat_at < now() - interval '1 day'")

    async def leave(self, worker_id: str) -> None:
        await self.conn.execute("DELETE FROM worker_heartbeats WHERE worker_id = $1", worker_id)

    async def log(self, ws: str, job_id: str, stage_id: str, task_id: str, severity: str, log_type: str,
                  payload: dict[str, Any]) -> None:
        await self.conn.execute(
            "INSERT INTO job_logs (workspace_id, job_id, stage_id, task_id, severity, reporting_module, log_type,"
            " payload) VALUES ($1, $2, $3, $4, $5, 'worker', $6, $7)",
            uuid.UUID(ws), job_id, stage_id, task_id, severity, log_type, payload)
