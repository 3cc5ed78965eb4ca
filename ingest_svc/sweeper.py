"""Expiry of staged data: batches older than their ``expires_at`` lose their rows and their objects.

The S3 lifecycle rule on the staging bucket deletes objects after 7 days on its own; this sweeper removes
the rows (and objects, so expiry does not depend on the S3 server's daily lifecycle pass). An expired
batch answers 410 until it is swept and 404 afterwards.

A batch may hold a million files: its per-file rows go ``rows_per_transaction`` at a time, each chunk a
short transaction of its own, so a sweep never holds one long transaction (WAL, vacuum, locks) while other
work runs; the batch row goes last. A session advisory lock per batch keeps two ingest processes off the
same batch; a sweep cut short (a crash) is taken up by the next, which finds the batch still expired.
"""

from __future__ import annotations

import asyncio
import logging

from ingest_svc.repository import PER_FILE_TABLES, IngestStore
from shared.db import Pool
from shared.storage import ObjectStore, batch_prefix

log = logging.getLogger(__name__)

ROWS_PER_TRANSACTION = 10_000
_SWEEP_LOCK = 0x45585059  # "EXPY": with the batch's hash, the advisory lock of one batch's sweep


async def sweep_once(pool: Pool, store: ObjectStore, limit: int = 50,
                     rows_per_transaction: int = ROWS_PER_TRANSACTION) -> int:
    """Sweep up to ``limit`` expired batches; returns how many were removed."""
    async with pool.acquire() as conn:
        expired = await IngestStore(conn).expired_batches(limit)
    swept = 0
    for ws, batch_id in expired:
        swept += await _sweep_batch(pool, store, ws, batch_id, rows_per_transaction)
    if swept:
        log.info("swept %d expired batches", swept)
    return swept


async def _sweep_batch(pool: Pool, store: ObjectStore, ws: str, batch_id: str, chunk: int) -> int:
    lock = (_SWEEP_LOCK, f"{ws}/{batch_id}")
    async with pool.acquire() as conn:
        if not await conn.fetchval("SELECT pg_try_advisory_lock($1, hashtext($2))", *lock):
            return 0  # another process sweeps it
        try:
            repo = IngestStore(conn)
            # looked at again under the lock: a sweep that just finished it, or a batch made anew since
            if not await repo.is_expired(ws, batch_id):
                return 0
            await store.delete_prefix(batch_prefix(ws, batch_id))
            await store.delete_prefix(f"uploads/{ws}/{batch_id}/")
            deleted = dict.fromkeys(PER_FILE_TABLES, 0)
            for table in PER_FILE_TABLES:
                while (count := await repo.delete_some(table, ws, batch_id, chunk)) > 0:
                    deleted[table] += count
            await repo.delete_batch(ws, batch_id)
        finally:
            await conn.fetchval("SELECT pg_advisory_unlock($1, hashtext($2))", *lock)
    log.info("swept expired batch %s of %s: %s", batch_id, ws, deleted)
    return 1


async def sweep_forever(pool: Pool, store: ObjectStore, interval_s: float) -> None:
    while True:
        while await sweep_once(pool, store) > 0:
            pass
        await asyncio.sleep(interval_s)
