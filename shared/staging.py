"""Staged data (batches, parts, shards, files, failed files): all its SQL. Written by ingest_svc for input
batches and by scheduler_svc, worker_svc and export_svc for job output batches; transactions are opened by
the caller."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg


@dataclass(frozen=True)
class Batch:
    workspace_id: str
    batch_id: str
    display_name: str
    batch_type: str
    content_type: str
    created_at: datetime
    expires_at: datetime


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


@dataclass(frozen=True)
class NewFile:
    part_name: str
    file_name: str
    shard_id: str | None
    content_type: str
    size_bytes: int
    object_key: str
    nested_content_type: str | None = None
    byte_offset: int | None = None  # set: the file is ``size_bytes`` bytes of ``object_key`` (an archive) from here


def member_range(byte_offset: int | None, size_bytes: int) -> tuple[int, int] | None:
    """The bytes ``[start, end)`` of a file kept inside an uploaded archive; None for a whole object."""
    return None if byte_offset is None else (byte_offset, byte_offset + size_bytes)


_BATCH_COLS = "workspace_id, batch_id, display_name, batch_type, content_type, created_at, expires_at"
_SHARD_COLS = ("workspace_id, batch_id, shard_id, ingest_id, kind, status, source_key, file_name, objects_count,"
               " failed_count, error, notifications_url, notification_categories, attempts, updated_at")


def _batch(row: asyncpg.Record) -> Batch:
    return Batch(**{**dict(row), "workspace_id": str(row["workspace_id"])})


def _shard(row: asyncpg.Record) -> Shard:
    return Shard(**{**dict(row), "workspace_id": str(row["workspace_id"]),
                    "notification_categories": list(row["notification_categories"])})


class StagingRepository:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn

    # ------------------------------------------------------------------ batches
    async def get_batch(self, ws: str, batch_id: str, *, lock: bool = False) -> Batch | None:
        row = await self.conn.fetchrow(
            f"SELECT {_BATCH_COLS} FROM batches WHERE workspace_id = $1 AND batch_id = $2"
            + (" FOR UPDATE" if lock else ""), uuid.UUID(ws), batch_id)
        return _batch(row) if row else None

    async def insert_batch(self, ws: str, batch_id: str, display_name: str, batch_type: str, content_type: str,
                           expires_at: datetime, produced_by_job: str | None = None) -> bool:
        result = await self.conn.execute(
            "INSERT INTO batches (workspace_id, batch_id, display_name, batch_type, content_type, expires_at,"
            " produced_by_job) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
            uuid.UUID(ws), batch_id, display_name, batch_type, content_type, expires_at, produced_by_job)
        return result.endswith(" 1")

    async def set_batch_type(self, ws: str, batch_id: str, batch_type: str) -> None:
        await self.conn.execute("UPDATE batches SET batch_type = $3 WHERE workspace_id = $1 AND batch_id = $2",
                                uuid.UUID(ws), batch_id, batch_type)

    async def list_batches(self, ws: str, limit: int, after: tuple[datetime, str] | None) -> list[Batch]:
        if after is None:
            rows = await self.conn.fetch(
                f"SELECT {_BATCH_COLS} FROM batches WHERE workspace_id = $1 AND expires_at > now()"
                " ORDER BY created_at DESC, batch_id LIMIT $2", uuid.UUID(ws), limit)
        else:
            rows = await self.conn.fetch(
                f"SELECT {_BATCH_COLS} FROM batches WHERE workspace_id = $1 AND expires_at > now()"
                " AND (created_at, batch_id) < ($2, $3) ORDER BY created_at DESC, batch_id LIMIT $4",
                uuid.UUID(ws), after[0], after[1], limit)
        return [_batch(r) for r in rows]

    async def expired_batches(self, limit: int) -> list[Batch]:
        rows = await self.conn.fetch(
            f"SELECT {_BATCH_COLS} FROM batches WHERE expires_at <= now() ORDER BY expires_at LIMIT $1"
            " FOR UPDATE SKIP LOCKED", limit)
        return [_batch(r) for r in rows]

    async def delete_batch(self, ws: str, batch_id: str) -> None:
        await self.conn.execute("DELETE FROM batches WHERE workspace_id = $1 AND batch_id = $2",
                                uuid.UUID(ws), batch_id)

    # ------------------------------------------------------------------ parts
    async def upsert_part(self, ws: str, batch_id: str, part_name: str, part_type: str, content_type: str,
                          nested_content_type: str | None, description: str | None) -> None:
        await self.conn.execute(
            "INSERT INTO batch_parts (workspace_id, batch_id, part_name, part_type, content_type,"
            " nested_content_type, description) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
            uuid.UUID(ws), batch_id, part_name, part_type, content_type, nested_content_type, description)

    async def list_parts(self, ws: str, batch_id: str) -> list[asyncpg.Record]:
        return await self.conn.fetch(
            "SELECT part_name, part_type, content_type, nested_content_type, description FROM batch_parts"
            " WHERE workspace_id = $1 AND batch_id = $2 ORDER BY part_name", uuid.UUID(ws), batch_id)

    # ------------------------------------------------------------------ per-image metadata
    async def upsert_metadata(self, ws: str, batch_id: str, part_name: str,
                              records: list[tuple[str, dict[str, Any]]]) -> int:
        """Set the metadata of files of a metadata part (a later upload replaces a file's object)."""
        if not records:
            return 0
        await self.conn.execute(
            "INSERT INTO file_metadata (workspace_id, batch_id, part_name, file_name, metadata)"
            " SELECT $1, $2, $3, * FROM unnest($4::text[], $5::jsonb[])"
            " ON CONFLICT (workspace_id, batch_id, part_name, file_name) DO UPDATE SET metadata = excluded.metadata",
            uuid.UUID(ws), batch_id, part_name, [n for n, _ in records], [m for _, m in records])
        return len(records)

    async def metadata_part_exists(self, ws: str, batch_id: str, part_name: str) -> bool:
        return bool(await self.conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM batch_parts WHERE workspace_id = $1 AND batch_id = $2 AND part_name = $3"
            " AND part_type = 'metadata-part')", uuid.UUID(ws), batch_id, part_name))

    # ------------------------------------------------------------------ files
    async def insert_files(self, ws: str, batch_id: str, files: list[NewFile]) -> set[str]:
        """Insert files; returns the names that were new (a redelivery inserts nothing twice)."""
        if not files:
            return set()
        rows = await self.conn.fetch(
            "INSERT INTO files (workspace_id, batch_id, part_name, file_name, shard_id, content_type,"
            " nested_content_type, size_bytes, object_key, byte_offset)"
            " SELECT $1, $2, * FROM unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::text[],"
            " $8::bigint[], $9::text[], $10::bigint[]) ON CONFLICT DO NOTHING RETURNING file_name",
            uuid.UUID(ws), batch_id, [f.part_name for f in files], [f.file_name for f in files],
            [f.shard_id for f in files], [f.content_type for f in files], [f.nested_content_type for f in files],
            [f.size_bytes for f in files], [f.object_key for f in files], [f.byte_offset for f in files])
        return {r["file_name"] for r in rows}

    async def existing_names(self, ws: str, batch_id: str, part_name: str, names: list[str]) -> set[str]:
        rows = await self.conn.fetch(
            "SELECT file_name FROM files WHERE workspace_id = $1 AND batch_id = $2 AND part_name = $3"
            " AND file_name = ANY($4::text[])", uuid.UUID(ws), batch_id, part_name, names)
        return {r["file_name"] for r in rows}

    async def count_files(self, ws: str, batch_id: str, part_name: str | None) -> int:
        if part_name is None:
            return await self.conn.fetchval(
                "SELECT count(*) FROM files WHERE workspace_id = $1 AND batch_id = $2", uuid.UUID(ws), batch_id)
        return await self.conn.fetchval(
            "SELECT count(*) FROM files WHERE workspace_id = $1 AND batch_id = $2 AND part_name = $3",
            uuid.UUID(ws), batch_id, part_name)

    async def list_files(self, ws: str, batch_id: str, part_name: str | None, limit: int,
                         after_seq: int) -> list[asyncpg.Record]:
        cols = ("seq, part_name, file_name, shard_id, content_type, nested_content_type, size_bytes, object_key,"
                " byte_offset")
        if part_name is None:
            return await self.conn.fetch(
                f"SELECT {cols} FROM files WHERE workspace_id = $1 AND batch_id = $2 AND seq > $3"
                " ORDER BY seq LIMIT $4", uuid.UUID(ws), batch_id, after_seq, limit)
        return await self.conn.fetch(
            f"SELECT {cols} FROM files WHERE workspace_id = $1 AND batch_id = $2 AND part_name = $3 AND seq > $4"
            " ORDER BY seq LIMIT $5", uuid.UUID(ws), batch_id, part_name, after_seq, limit)

    async def get_file(self, ws: str, batch_id: str, part_name: str, file_name: str) -> asyncpg.Record | None:
        return await self.conn.fetchrow(
            "SELECT object_key, byte_offset, content_type, size_bytes FROM files WHERE workspace_id = $1"
            " AND batch_id = $2 AND part_name = $3 AND file_name = $4", uuid.UUID(ws), batch_id, part_name, file_name)

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

    # ------------------------------------------------------------------ shards
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

    async def open_shards(self, ws: str, batch_id: str) -> dict[str, int]:
        """Shards that may still bring files into the batch, by status: uploaded or being indexed, or
        awaiting an upload whose signed link is still valid."""
        rows = await self.conn.fetch(
            "SELECT status, count(*) AS n FROM shards WHERE workspace_id = $1 AND batch_id = $2"
            " AND (status IN ('uploaded', 'indexing') OR (status = 'awaiting-upload' AND link_expires_at > now()))"
            " GROUP BY status", uuid.UUID(ws), batch_id)
        return {r["status"]: r["n"] for r in rows}

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

    async def claim_shard(self, lease_s: float, max_attempts: int, kinds: tuple[str, ...]) -> Shard | None:
        """Claim one uploaded shard of ``kinds`` (or one whose indexer's lease ran out) for indexing: of the
        workspace with the fewest shards being indexed, so one tenant's many uploads do not starve another's."""
        row = await self.conn.fetchrow(
            f"UPDATE shards SET status = 'indexing', attempts = attempts + 1, updated_at = now(),"
            f" claimed_until = now() + make_interval(secs => $1)"
            f" WHERE (workspace_id, batch_id, shard_id) = (SELECT s.workspace_id, s.batch_id, s.shard_id FROM shards s"
            f"   WHERE (s.status = 'uploaded' OR (s.status = 'indexing' AND s.claimed_until < now()))"
            f"   AND s.attempts < $2 AND s.kind = ANY($3::text[])"
            f"   ORDER BY (SELECT count(*) FROM shards busy WHERE busy.workspace_id = s.workspace_id"
            f"     AND busy.status = 'indexing' AND busy.claimed_until >= now()), s.updated_at"
            f"   LIMIT 1 FOR UPDATE OF s SKIP LOCKED)"
            f" RETURNING {_SHARD_COLS}", lease_s, max_attempts, list(kinds))
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
