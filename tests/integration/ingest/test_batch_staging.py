"""Whether a batch may still receive files is kept on the batch by ingest (shards_open, links_open_until), so the
scheduler never reads ingest's shards: each shard change keeps it, on both sides of each boundary, and two shards
of one batch changing at once count each other."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import asyncpg

from ingest_svc.repository import IngestStore
from shared.staging import StagingRepository, StillStaging
from tests.fixtures.resources import WorkspaceFactory


async def _staging(pool: asyncpg.Pool, ws: str, batch: str) -> StillStaging | None:
    async with pool.acquire() as conn:
        return await StagingRepository(conn).still_staging(ws, batch)


async def _batch(pool: asyncpg.Pool, ws: str, batch: str) -> None:
    async with pool.acquire() as conn:
        assert await IngestStore(conn).insert_batch(ws, batch, batch, "sharded-batch", "images",
                                                    datetime.now(UTC) + timedelta(days=1))


async def _shard(pool: asyncpg.Pool, ws: str, batch: str, shard: str, status: str, link: datetime | None) -> None:
    async with pool.acquire() as conn, conn.transaction():
        assert await IngestStore(conn).insert_shard(ws, batch, shard, kind="tar", status=status,
                                                    source_key=f"k/{shard}", link_expires_at=link)


async def _set(pool: asyncpg.Pool, ws: str, batch: str, shard: str, status: str) -> None:
    async with pool.acquire() as conn, conn.transaction():
        assert await IngestStore(conn).set_shard_status(ws, batch, shard, status)


async def test_a_batch_is_staging_while_a_link_is_valid_or_a_shard_is_open(pool: asyncpg.Pool,
                                                                         make_workspace: WorkspaceFactory) -> None:
    ws = (await make_workspace())[0].id
    await _batch(pool, ws, "b")
    assert await _staging(pool, ws, "b") is None  # a batch with no shard is sealed
    soon = datetime.now(UTC) + timedelta(minutes=5)
    await _shard(pool, ws, "b", "s1", "awaiting-upload", soon)
    still = await _staging(pool, ws, "b")
    assert still and still.shards_open == 0 and still.links_valid_until == soon
    await _shard(pool, ws, "b", "s0", "awaiting-upload", datetime.now(UTC) - timedelta(seconds=1))  # expired
    still = await _staging(pool, ws, "b")
    assert still and still.links_valid_until == soon
    await _set(pool, ws, "b", "s1", "uploaded")
    still = await _staging(pool, ws, "b")
    assert still and still.shards_open == 1 and still.links_valid_until is None  # s0's link has expired
    await _set(pool, ws, "b", "s1", "indexing")
    still = await _staging(pool, ws, "b")
    assert still and still.shards_open == 1
    await _set(pool, ws, "b", "s1", "indexed")
    assert await _staging(pool, ws, "b") is None
    await _set(pool, ws, "b", "s0", "failed")
    assert await _staging(pool, ws, "b") is None


async def test_shards_of_one_batch_ending_at_once_count_each_other(pool: asyncpg.Pool,
                                                                   make_workspace: WorkspaceFactory) -> None:
    ws = (await make_workspace())[0].id
    await _batch(pool, ws, "many")
    shards = [f"s{i}" for i in range(8)]
    for shard in shards:
        await _shard(pool, ws, "many", shard, "indexing", None)
    still = await _staging(pool, ws, "many")
    assert still and still.shards_open == 8

    async def finish(shard: str) -> None:
        async with pool.acquire() as conn, conn.transaction():
            assert await IngestStore(conn).set_shard_status(ws, "many", shard, "indexed")
            await asyncio.sleep(0.05)  # both transactions are open at once

    await asyncio.gather(*(finish(s) for s in shards))
    assert await _staging(pool, ws, "many") is None
