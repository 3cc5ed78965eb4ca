"""Transactional outbox: events that must not be lost are written in the same transaction as the state
they describe, and a relay publishes them to Kafka after commit (at least once, in commit order).

Only one relay publishes at a time across all processes (a transaction-scoped advisory lock), so
events keep their order; a ``pg_notify`` on insert wakes the relay without polling delay (an idle relay
looks every ``idle_poll_s`` as well, in case a notification was lost with its connection). Published rows
are kept ``retention_s`` (for inspection and replay by hand) and then deleted, in bounded batches, so the
table holds about one retention period of events.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence

import asyncpg
from faststream.kafka import KafkaBroker

from shared.events import EventBase, Topic, topic_for, topic_name
from shared.events.base import cloud_event_headers, correlation_of, source_of
from shared.tracing import continued, current_context

log = logging.getLogger(__name__)

CHANNEL = "conveyor_outbox"
_RELAY_LOCK = 0x4F555442  # "OUTB"
_PURGE_BATCH = 10_000  # rows deleted per statement: short transactions, never a long lock on the table


async def enqueue(conn: asyncpg.Connection, prefix: str, event: EventBase, topic: Topic | None = None, *,
                  source: str) -> None:
    """Write ``event`` to the outbox inside the caller's transaction; ``source`` names the producing service
    (``source_of(service)``), which any service's relay may publish it for."""
    name = topic_name(prefix, topic or topic_for(event))
    await conn.execute(
        "INSERT INTO outbox (topic, message_key, event_type, event_id, payload, source, trace_context)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7)",
        name, event.key(), event.type, event.event_id, event.model_dump(mode="json"), source, current_context(),
    )
    await conn.execute("SELECT pg_notify($1, '')", CHANNEL)


async def enqueue_many(conn: asyncpg.Connection, prefix: str, events: Sequence[EventBase],
                       topic: Topic | None = None, *, source: str) -> None:
    if not events:
        return
    trace_context = current_context()
    rows = [
        (topic_name(prefix, topic or topic_for(e)), e.key(), e.type, e.event_id, e.model_dump(mode="json"), source,
         trace_context)
        for e in events
    ]
    await conn.executemany(
        "INSERT INTO outbox (topic, message_key, event_type, event_id, payload, source, trace_context)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7)",
        rows,
    )
    await conn.execute("SELECT pg_notify($1, '')", CHANNEL)


class OutboxRelay:
    """Publishes committed outbox rows to Kafka, oldest first, marking each batch after Kafka acked it."""

    def __init__(self, pool: asyncpg.Pool, broker: KafkaBroker, *, batch_size: int = 500,
                 idle_poll_s: float = 5.0, retention_s: float = 86_400.0, purge_interval_s: float = 60.0,
                 source: str = source_of("unknown")) -> None:
        self._pool = pool
        self._broker = broker
        self._source = source  # the CloudEvents source of rows written before rows named theirs
        self._batch_size = batch_size
        self._idle_poll_s = idle_poll_s
        self._retention_s = retention_s
        self._purge_interval_s = purge_interval_s
        self._purged_at = 0.0
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._listener: asyncpg.Connection | None = None

    async def start(self) -> None:
        self._listener = await self._pool.acquire()
        await self._listener.add_listener(CHANNEL, self._on_notify)
        self._task = asyncio.create_task(self._run(), name="outbox-relay")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._listener is not None:
            with contextlib.suppress(Exception):
                await self._listener.remove_listener(CHANNEL, self._on_notify)
            await self._pool.release(self._listener)
            self._listener = None

    def _on_notify(self, *_: object) -> None:
        self._wake.set()

    async def _run(self) -> None:
        while True:
            # cleared before reading, not after: a notification that lands while a batch is being published
            # (rows committed after its SELECT) must wake the next round instead of waiting for the poll
            self._wake.clear()
            try:
                published = await self.relay_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("outbox relay failed; retrying")
                published = 0
                await asyncio.sleep(self._idle_poll_s)
            if published < self._batch_size:
                await self._purge_when_due()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self._idle_poll_s)

    async def relay_once(self) -> int:
        """Publish one batch; returns how many rows were published (0 if another relay holds the lock)."""
        async with self._pool.acquire() as conn, conn.transaction():
            if not await conn.fetchval("SELECT pg_try_advisory_xact_lock($1)", _RELAY_LOCK):
                return 0
            rows = await conn.fetch(
                "SELECT id, topic, message_key, event_type, event_id, payload, source, trace_context FROM outbox"
                " WHERE published_at IS NULL ORDER BY id LIMIT $1",
                self._batch_size,
            )
            if not rows:
                return 0
            pending = []
            for r in rows:
                with continued(r["trace_context"]):  # the writer's trace: its consumer's span is a child of it
                    pending.append(await self._broker.publish(
                        r["payload"], r["topic"], key=r["message_key"].encode(),
                        headers=cloud_event_headers(r["event_type"], r["event_id"], r["payload"]["occurred_at"],
                                                    r["source"] or self._source),
                        correlation_id=correlation_of(r["payload"], r["message_key"]),
                        no_confirm=True,
                    ))
            await asyncio.gather(*pending)
            await conn.execute(
                "UPDATE outbox SET published_at = now() WHERE id = ANY($1::bigint[])", [r["id"] for r in rows]
            )
            return len(rows)

    async def _purge_when_due(self) -> None:
        now = asyncio.get_running_loop().time()
        if now - self._purged_at < self._purge_interval_s:
            return
        self._purged_at = now
        try:
            purged = await purge_published(self._pool, self._retention_s)
        except Exception:
            log.exception("outbox purge failed; trying again at the next interval")
            return
        if purged:
            log.info("outbox: purged %d published rows older than %.0f s", purged, self._retention_s)


async def purge_published(pool: asyncpg.Pool, older_than_s: float) -> int:
    """Delete rows published more than ``older_than_s`` ago, oldest first, ``_PURGE_BATCH`` per statement."""
    total = 0
    while True:
        result = await pool.execute(
            "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox WHERE published_at < now() - "
            "make_interval(secs => $1) ORDER BY id LIMIT $2)", float(older_than_s), _PURGE_BATCH)
        deleted = int(result.split()[-1])
        total += deleted
        if deleted < _PURGE_BATCH:
            return total
