"""All SQL of export_svc: the job being exported and the export stage's tasks."""

from __future__ import annotations

import uuid

import asyncpg


class ExportRepository:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn

    async def job_state_and_format(self, ws: str, job_id: str) -> tuple[str, str] | None:
        row = await self.conn.fetchrow(
            "SELECT state, coalesce(definition->'processingSpecification'->>'aggregationFormat', 'jsonl') AS fmt"
            " FROM jobs WHERE workspace_id = $1 AND job_id = $2", uuid.UUID(ws), job_id)
        return (row["state"], row["fmt"]) if row else None

    async def record_archive_task(self, ws: str, job_id: str, task_id: str, files_count: int) -> None:
        await self.conn.execute(
            "INSERT INTO tasks (workspace_id, job_id, stage_id, task_id, seq_from, seq_to, files_count, state,"
            " attempt, progress, files_processed) VALUES ($1, $2, 'export', $3, 0, 0, $4, 'succeeded', 1, 1.0, $4)"
            " ON CONFLICT DO NOTHING", uuid.UUID(ws), job_id, task_id, files_count)
