import json
from datetime import datetime
from typing import Any

import asyncpg
import pytest

from shared.broker import build_broker, ensure_topics
from shared.config import ServiceSettings
from shared.events import ShardReadyV1, Topic, topic_name
from shared.events.base import source_of
from shared.outbox import OutboxRelay, enqueue, enqueue_many, purge_published
from tests.fixtures.kafka import read_topic, wait_for

TEST = source_of("test")


def _file(i: int, batch: str) -> ShardReadyV1:
    return ShardReadyV1(workspace_id="ws", batch_id=batch, shard_id=f"s{i}", ingested_files=i, failed_files=0)


async def test_only_committed_events_are_relayed_in_order(pool: asyncpg.Pool, settings: ServiceSettings,
                                                          unique: str) -> None:
    prefix = settings.kafka.topic_prefix
    await ensure_topics(settings.kafka)
    with pytest.raises(RuntimeError):
        async with pool.acquire() as conn, conn.transaction():
            await enqueue(conn, prefix, _file(99, unique), source=TEST)
            raise RuntimeError("rolled back: the event must never be published")
    # the first names the ingest it descends from; the others correlate by their key
    committed = [_file(0, unique).model_copy(update={"correlation_id": f"ingest-{unique}"}),
                 *(_file(i, unique) for i in range(1, 5))]
    async with pool.acquire() as conn, conn.transaction():
        await enqueue(conn, prefix, committed[0], source=TEST)
        await enqueue_many(conn, prefix, committed[1:], source=TEST)

    broker = build_broker(settings.kafka, client_id="test-relay")
    await broker.start()
    relay = OutboxRelay(pool, broker, source=source_of("ingest"))
    await relay.start()
    try:
        ids = [e.event_id for e in committed]
        published = await wait_for(lambda: pool.fetchval(
            "SELECT count(*) = $2 FROM outbox WHERE event_id = ANY($1) AND published_at IS NOT NULL", ids, len(ids)))
        assert published
    finally:
        await relay.stop()
        await broker.stop()

    records = await read_topic(settings.kafka.bootstrap_servers, topic_name(prefix, Topic.SHARDS_READY), 5)
    assert [json.loads(r.value)["event_id"] for r in records] == ids  # one key: one partition, commit order
    assert {r.key.decode() for r in records} == {f"ws/{unique}"}
    assert all(dict(r.headers)["event-type"] == b"shard.ready@v1" for r in records)
    for record, event in zip(records, committed, strict=True):  # CloudEvents 1.0, Kafka binary mode
        headers = {k: v.decode() for k, v in record.headers}
        assert headers["ce_specversion"] == "1.0" and headers["ce_id"] == event.event_id
        # ce_source: the row's producer, whichever relay sent it
        assert headers["ce_type"] == "shard.ready@v1" and headers["ce_source"] == "/conveyor/test"
        assert datetime.fromisoformat(headers["ce_time"]) == event.occurred_at
        assert headers["content-type"] == "application/json"
    correlations = [dict(r.headers)["correlation_id"].decode() for r in records]
    assert correlations == [f"ingest-{unique}", *[f"ws/{unique}"] * 4]
    assert await pool.fetchval("SELECT count(*) FROM outbox WHERE payload->>'shard_id' = 's99' "
                               "AND payload->>'batch_id' = $1", unique) == 0



async def test_a_commit_during_a_publish_wakes_the_relay_again(pool: asyncpg.Pool, settings: ServiceSettings,
                                                               unique: str) -> None:
    """An event committed (and notified) while the relay publishes the batch before it goes out at once: the
    relay's fallback poll is a minute here, so an event left for the poll would miss the deadline."""
    await ensure_topics(settings.kafka)
    prefix = settings.kafka.topic_prefix
    broker = build_broker(settings.kafka, client_id="test-relay-wake")
    await broker.start()
    first, late = _file(0, unique), _file(1, unique)
    publish = broker.publish

    async def publish_then_commit_another(*args: Any, **kwargs: Any) -> Any:
        sent = await publish(*args, **kwargs)
        if kwargs["headers"]["event-id"] == first.event_id:
            async with pool.acquire() as conn, conn.transaction():
                await enqueue(conn, prefix, late, source=TEST)
        return sent

    broker.publish = publish_then_commit_another  # type: ignore[method-assign]
    relay = OutboxRelay(pool, broker, idle_poll_s=60)
    await relay.start()
    try:
        async with pool.acquire() as conn, conn.transaction():
            await enqueue(conn, prefix, first, source=TEST)
        published = await wait_for(lambda: pool.fetchval(
            "SELECT count(*) = 2 FROM outbox WHERE event_id = ANY($1) AND published_at IS NOT NULL",
            [first.event_id, late.event_id]), timeout=10)
        assert published
    finally:
        await relay.stop()
        await broker.stop()


async def test_published_rows_are_purged_so_the_table_stays_bounded(pool: asyncpg.Pool, settings: ServiceSettings,
                                                                    unique: str) -> None:
    """100,000 events through one relay that keeps published rows 0 s: after each 10,000 the table holds none
    of them (without the purge it would end with 100,000); rows younger than the retention are kept."""
    await ensure_topics(settings.kafka)
    prefix = settings.kafka.topic_prefix
    broker = build_broker(settings.kafka, client_id="test-relay-purge")
    await broker.start()
    relay = OutboxRelay(pool, broker, retention_s=0, purge_interval_s=0, idle_poll_s=0.2)
    await relay.start()
    ours = "FROM outbox WHERE payload->>'batch_id' = $1"
    try:
        for chunk in range(10):
            async with pool.acquire() as conn, conn.transaction():
                await enqueue_many(conn, prefix, [_file(chunk * 10_000 + i, unique) for i in range(10_000)],
                                   source=TEST)
            assert await pool.fetchval(f"SELECT count(*) {ours}", unique) == 10_000
            assert await wait_for(lambda: pool.fetchval(f"SELECT count(*) = 0 {ours}", unique), timeout=120)
            left = await pool.fetchval(f"SELECT count(*) {ours}", unique)
            assert left == 0, f"after {chunk + 1} x 10,000 events the outbox still holds {left} of them"
    finally:
        await relay.stop()
        await broker.stop()

    kept = _file(0, f"{unique}-kept")
    async with pool.acquire() as conn, conn.transaction():
        await enqueue(conn, prefix, kept, source=TEST)
    await pool.execute("UPDATE outbox SET published_at = now() WHERE event_id = $1", kept.event_id)
    await purge_published(pool, 86_400)
    assert await pool.fetchval("SELECT count(*) FROM outbox WHERE event_id = $1", kept.event_id) == 1
    await purge_published(pool, 0)
    assert await pool.fetchval("SELECT count(*) FROM outbox WHERE event_id = $1", kept.event_id) == 0
