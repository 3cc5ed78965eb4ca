"""SQL of ingest_svc's own bookkeeping: ingests (one ingestId, any number of shards) and their webhook.

Shards, files and batches are the shared batch store (``shared.staging``); this is what only ingest reads.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import asyncpg

# a shard that may still belong to the ingest: one of its own not finished yet, or a tar whose
# notification_config.json (which names its ingest) has not been read yet
_BLOCKING = (
    "(s.ingest_id = i.ingest_id OR (s.kind = 'tar' AND s.ingest_id IS NULL))"
    " AND (s.status IN ('uploaded', 'indexing') OR (s.status = 'awaiting-upload' AND s.link_expires_at > now()))"
)


@dataclass(frozen=True)
class Ingest:
    workspace_id: str
    batch_id: str
    ingest_id: str
    notifications_url: str
    notification_categories: list[str]


@dataclass(frozen=True)
class IngestTotals:
    shards: int
    ingested: int
    failed_files: int
    failed_shards: int
    first_error: str | None


class IngestRepository:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn

    async def register(self, ws: str, batch_id: str, ingest_id: str, url: str, categories: list[str]) -> None:
        await self.conn.execute(
            "INSERT INTO ingests (workspace_id, batch_id, ingest_id, notifications_url, notification_categories)"
            " VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING", uuid.UUID(ws), batch_id, ingest_id, url, categories)

    async def unnotified(self, ws: str | None = None, batch_id: str | None = None, *,
                         limit: int = 100) -> list[tuple[str, str, str]]:
        """(workspace, batch, ingest) of ingests not notified yet, of one batch or of every batch."""
        rows = await self.conn.fetch(
            "SELECT workspace_id, batch_id, ingest_id FROM ingests WHERE notified_at IS NULL"
            " AND ($1::uuid IS NULL OR (workspace_id = $1 AND batch_id = $2)) ORDER BY created_at LIMIT $3",
            uuid.UUID(ws) if ws else None, batch_id, limit)
        return [(str(r["workspace_id"]), r["batch_id"], r["ingest_id"]) for r in rows]

    async def lock_if_complete(self, ws: str, batch_id: str, ingest_id: str, settle_s: float) -> Ingest | None:
        """The ingest, locked, when it is not notified yet and none of its shards can still change: none is
        pending, and no archive link was handed out in the batch for ``settle_s`` (a client uploading a folder
        asks for the next tar's link only once it has packed it, so a quiet moment must pass first)."""
        row = await self.conn.fetchrow(
            "SELECT workspace_id, batch_id, ingest_id, notifications_url, notification_categories FROM ingests"
            " WHERE workspace_id = $1 AND batch_id = $2 AND ingest_id = $3 AND notified_at IS NULL FOR UPDATE",
            uuid.UUID(ws), batch_id, ingest_id)
        if row is None:
            return None
        # read after taking the lock: a concurrent indexer's finished shard is visible once it committed
        blocked = await self.conn.fetchval(
            f"SELECT EXISTS (SELECT 1 FROM shards s, ingests i WHERE i.workspace_id = $1 AND i.batch_id = $2"
            f" AND i.ingest_id = $3 AND s.workspace_id = i.workspace_id AND s.batch_id = i.batch_id"
            f" AND ({_BLOCKING} OR (s.kind = 'tar' AND s.created_at > now() - make_interval(secs => $4))))",
            uuid.UUID(ws), batch_id, ingest_id, settle_s)
        if blocked:
            return None
        return Ingest(workspace_id=str(row["workspace_id"]), batch_id=row["batch_id"], ingest_id=row["ingest_id"],
                      notifications_url=row["notifications_url"],
                      notification_categories=list(row["notification_categories"]))

    async def totals(self, ingest: Ingest) -> IngestTotals:
        row = await self.conn.fetchrow(
            "SELECT count(*) AS shards, coalesce(sum(objects_count), 0) AS ingested,"
            " coalesce(sum(failed_count), 0) AS failed_files, count(*) FILTER (WHERE status = 'failed') AS failed,"
            " min(error) FILTER (WHERE status = 'failed') AS first_error FROM shards"
            " WHERE workspace_id = $1 AND batch_id = $2 AND ingest_id = $3",
            uuid.UUID(ingest.workspace_id), ingest.batch_id, ingest.ingest_id)
        return IngestTotals(shards=row["shards"], ingested=int(row["ingested"]), failed_files=int(row["failed_files"]),
                            failed_shards=row["failed"], first_error=row["first_error"])

    async def mark_notified(self, ingest: Ingest) -> None:
        await self.conn.execute(
            "UPDATE ingests SET notified_at = now() WHERE workspace_id = $1 AND batch_id = $2 AND ingest_id = $3",
            uuid.UUID(ingest.workspace_id), ingest.batch_id, ingest.ingest_id)
