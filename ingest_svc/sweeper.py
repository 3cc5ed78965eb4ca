"""Expiry of staged data: batches older than their ``expires_at`` lose their rows and their objects.

The S3 lifecycle rule on the staging bucket deletes objects after 7 days on its own; this sweeper removes
the rows (and objects, so expiry does not depend on the S3 server's daily lifecycle pass). An expired
batch answers 410 until it is swept and 404 afterwards.
"""

from __future__ import annotations

import asyncio
import logging

from ingest_svc.repository import IngestStore
from shared.db import Pool
from shared.storage import ObjectStore, batch_prefix

log = logging.getLogger(__name__)


async def sweep_once(pool: Pool, store: ObjectStore, limit: int = 50) -> int:
    swept = 0
    async with pool.acquire() as conn, conn.transaction():
        repo = IngestStore(conn)
        for batch in await repo.expired_batches(limit):
            await store.delete_prefix(batch_prefix(batch.workspace_id, batch.batch_id))
            await store.delete_prefix(f"uploads/{batch.workspace_id}/{batch.batch_id}/")
            await repo.delete_batch(batch.workspace_id, batch.batch_id)
            swept += 1
    if swept:
        log.info("swept %d expired batches", swept)
    return swept


async def sweep_forever(pool: Pool, store: ObjectStore, interval_s: float) -> None:
    while True:
        while await sweep_once(pool, store) > 0:
            pass
        await asyncio.sleep(interval_s)
