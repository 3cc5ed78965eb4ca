"""SQL of ingest_svc's own bookkeeping: shards (an uploaded tar, a chunk of references, a video) with their
indexing leases, failed files, and ingests (one ingestId, any number of shards) with their webhook.

Batches, parts and files are the shared batch store (``shared.staging``); ``IngestStore`` is that store plus
what only ingest reads and writes.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import asyncpg

from shared.staging import StagingRepository

# the tables with a row per file of a batch
PerFileTable = Literal["files", "file_metadata", "failed_files"]
PER_FILE_TABLES: tuple[PerFileTable, ...] = ("files", "file_metadata", "failed_files")

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
    notifications_url: str | None  # None: no webhook, the ingest.completed event only
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

    async def register(self, ws: str, batch_id: str, ingest_id: str, url: str | None,
                       categories: list[str]) -> None:
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


@dataclass(frozen=True)
class Shard:
    workspace_id: str
    batch_id: str
    shard_id: str
    ingest_id: str | None
    kind: str
    status: str
    source_key: str
    file_name: str | None
    objects_count: int
    failed_count: int
    error: str | None
    notifications_url: str | None
    notification_categories: list[str]
    attempts: int
    updated_at: datetime


_SHARD_COLS = ("workspace_id, batch_id, shard_id, ingest_id, kind, status, source_key, file_name, objects_count,"
               " failed_count, error, notifications_url, notification_categories, attempts, updated_at")


def _shard(row: asyncpg.Record) -> Shard:
    return Shard(**{**dict(row), "workspace_id": str(row["workspace_id"]),
                    "notification_categories": list(row["notification_categories"])})


class IngestStore(StagingRepository):
    """The batch store with ingest's shards and failed files."""

    async def file_counts(self, ws: str, batch_ids: list[str]) -> dict[str, tuple[int, int]]:
        """(files staged, files refused while indexing) of each batch."""
        rows = await self.conn.fetch(
            "SELECT b.batch_id, b.files_count, (SELECT coalesce(sum(s.failed_count), 0) FROM shards s"
            "  WHERE s.workspace_id = b.workspace_id AND s.batch_id = b.batch_id) AS refused"
            " FROM batches b WHERE b.workspace_id = $1 AND b.batch_id = ANY($2::text[])", uuid.UUID(ws), batch_ids)
        return {r["batch_id"]: (int(r["files_count"]), int(r["refused"])) for r in rows}

    # ------------------------------------------------------------------ expiry
    async def expired_batches(self, limit: int) -> list[tuple[str, str]]:
        rows = await self.conn.fetch(
            "SELECT workspace_id, batch_id FROM batches WHERE expires_at <= now() ORDER BY expires_at LIMIT $1",
            limit)
        return [(str(r["workspace_id"]), r["batch_id"]) for r in rows]

    async def is_expired(self, ws: str, batch_id: str) -> bool:
        return bool(await self.conn.fetchval(
            "SELECT expires_at <= now() FROM batches WHERE workspace_id = $1 AND batch_id = $2",
            uuid.UUID(ws), batch_id))

    async def delete_some(self, table: PerFileTable, ws: str, batch_id: str, limit: int) -> int:
        """Delete up to ``limit`` rows of the batch from one of its per-file tables; returns how many."""
        result = await self.conn.execute(
            f"DELETE FROM {table} WHERE ctid = ANY(ARRAY(SELECT ctid FROM {table}"
            " WHERE workspace_id = $1 AND batch_id = $2 LIMIT $3))", uuid.UUID(ws), batch_id, limit)
        return int(result.split()[-1])

    async def delete_batch(self, ws: str, batch_id: str) -> None:
        """The batch row, and by cascade its parts, shards and ingests."""
        await self.conn.execute("DELETE FROM batches WHERE workspace_id = $1 AND batch_id = $2",
                                uuid.UUID(ws), batch_id)

    async def insert_failed(self, ws: str, batch_id: str, shard_id: str,
                            failures: list[tuple[str, str, str]]) -> None:
        """Record failed files as (file name, failure type, reason)."""
        if failures:
            await self.conn.executemany(
                "INSERT INTO failed_files (workspace_id, batch_id, shard_id, file_name, failure_type, reason)"
                " VALUES ($1, $2, $3, $4, $5, $6)",
                [(uuid.UUID(ws), batch_id, shard_id, n, t, r) for n, t, r in failures])

    async def failed_files(self, ws: str, batch_id: str, shard_id: str, limit: int) -> list[asyncpg.Record]:
        return await self.conn.fetch(
            "SELECT file_name, failure_type, reason FROM failed_files WHERE workspace_id = $1 AND batch_id = $2"
            " AND shard_id = $3 ORDER BY created_at, file_name LIMIT $4", uuid.UUID(ws), batch_id, shard_id, limit)

    async def insert_shard(self, ws: str, batch_id: str, shard_id: str, *, kind: str, status: str,
                           source_key: str, file_name: str | None = None, ingest_id: str | None = None,
                           ingest_part: int = 0, notifications_url: str | None = None,
                           categories: list[str] | None = None, link_expires_at: datetime | None = None) -> bool:
        result = await self.conn.execute(
            "INSERT INTO shards (workspace_id, batch_id, shard_id, ingest_id, kind, status, source_key, file_name,"
            " notifications_url, notification_categories, ingest_part, link_expires_at)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT DO NOTHING",
            uuid.UUID(ws), batch_id, shard_id, ingest_id, kind, status, source_key, file_name, notifications_url,
            categories or [], ingest_part, link_expires_at)
        return result.endswith(" 1")

    async def get_shard(self, ws: str, batch_id: str, shard_id: str) -> Shard | None:
        row = await self.conn.fetchrow(
            f"SELECT {_SHARD_COLS} FROM shards WHERE workspace_id = $1 AND batch_id = $2 AND shard_id = $3",
            uuid.UUID(ws), batch_id, shard_id)
        return _shard(row) if row else None

    async def shards_of_ingest(self, ws: str, batch_id: str, ingest_id: str, kind: str) -> list[Shard]:
        rows = await self.conn.fetch(
            f"SELECT {_SHARD_COLS} FROM shards WHERE workspace_id = $1 AND batch_id = $2 AND ingest_id = $3"
            " AND kind = $4 ORDER BY shard_id", uuid.UUID(ws), batch_id, ingest_id, kind)
        return [_shard(r) for r in rows]

    async def list_shards(self, ws: str, batch_id: str, limit: int, after: str | None) -> list[Shard]:
        rows = await self.conn.fetch(
            f"SELECT {_SHARD_COLS} FROM shards WHERE workspace_id = $1 AND batch_id = $2 AND shard_id > $3"
            " ORDER BY shard_id LIMIT $4", uuid.UUID(ws), batch_id, after or "", limit)
        return [_shard(r) for r in rows]

    async def set_shard_status(self, ws: str, batch_id: str, shard_id: str, status: str, *,
                               from_status: str | None = None, file_name: str | None = None,
                               source_key: str | None = None) -> bool:
        result = await self.conn.execute(
            "UPDATE shards SET status = $4, file_name = coalesce($6, file_name),"
            " source_key = coalesce($7, source_key), updated_at = now()"
            " WHERE workspace_id = $1 AND batch_id = $2 AND shard_id = $3 AND ($5::text IS NULL OR status = $5)",
            uuid.UUID(ws), batch_id, shard_id, status, from_status, file_name, source_key)
        return result.endswith(" 1")

    async def claim_shard(self, lease_s: float, max_attempts: int, kinds: tuple[str, ...],
                          per_workspace: int | None = None) -> Shard | None:
        """Claim one uploaded shard of ``kinds`` (or one whose indexer's lease ran out) for indexing: of the
        workspace with the fewest shards being indexed, so one tenant's many uploads do not starve another's,
        and (``per_workspace``) none of a workspace that already has that many of ``kinds`` being indexed."""
        row = await self.conn.fetchrow(
            f"UPDATE shards SET status = 'indexing', attempts = attempts + 1, updated_at = now(),"
            f" claimed_until = now() + make_interval(secs => $1)"
            f" WHERE (workspace_id, batch_id, shard_id) = (SELECT s.workspace_id, s.batch_id, s.shard_id FROM shards s"
            f"   WHERE (s.status = 'uploaded' OR (s.status = 'indexing' AND s.claimed_until < now()))"
            f"   AND s.attempts < $2 AND s.kind = ANY($3::text[])"
            f"   AND ($4::int IS NULL OR (SELECT count(*) FROM shards held WHERE held.workspace_id = s.workspace_id"
            f"     AND held.status = 'indexing' AND held.claimed_until >= now() AND held.kind = ANY($3::text[])) < $4)"
            f"   ORDER BY (SELECT count(*) FROM shards busy WHERE busy.workspace_id = s.workspace_id"
            f"     AND busy.status = 'indexing' AND busy.claimed_until >= now()), s.updated_at"
            f"   LIMIT 1 FOR UPDATE OF s SKIP LOCKED)"
            f" RETURNING {_SHARD_COLS}", lease_s, max_attempts, list(kinds), per_workspace)
        return _shard(row) if row else None

    async def exhausted_shards(self, max_attempts: int) -> list[Shard]:
        """Shards out of attempts: a crashed indexer's (lease run out), or one given back after an error. Each
        must end failed with its reason, never wait forever (claim_shard no longer takes them)."""
        rows = await self.conn.fetch(
            f"SELECT {_SHARD_COLS} FROM shards WHERE attempts >= $1"
            " AND (status = 'uploaded' OR (status = 'indexing' AND claimed_until < now())) FOR UPDATE SKIP LOCKED",
            max_attempts)
        return [_shard(r) for r in rows]

    async def finish_shard(self, shard: Shard, status: str, ingested: int, failed: int,
                           error: str | None = None, *, ingest_id: str | None = None,
                           notifications_url: str | None = None) -> None:
        """Record a shard's outcome; a tar's ``notification_config.json`` names its ingest and webhook."""
        await self.conn.execute(
            "UPDATE shards SET status = $4, objects_count = $5, failed_count = $6,"
            " error = $7, claimed_until = NULL, updated_at = now(), ingest_id = coalesce(ingest_id, $8),"
            " notifications_url = coalesce(notifications_url, $9)"
            " WHERE workspace_id = $1 AND batch_id = $2 AND shard_id = $3",
            uuid.UUID(shard.workspace_id), shard.batch_id, shard.shard_id, status, ingested, failed, error,
            ingest_id, notifications_url)

    async def renew_lease(self, shard: Shard, lease_s: float) -> None:
        await self.conn.execute(
            "UPDATE shards SET claimed_until = now() + make_interval(secs => $4)"
            " WHERE workspace_id = $1 AND batch_id = $2 AND shard_id = $3",
            uuid.UUID(shard.workspace_id), shard.batch_id, shard.shard_id, lease_s)
