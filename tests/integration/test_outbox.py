import json
from typing import Any

import asyncpg
import pytest

from shared.broker import build_broker, ensure_topics
from shared.config import ServiceSettings
from shared.events import FileIngestedV1, Topic, topic_name
from shared.outbox import OutboxRelay, stage, stage_many
from tests.fixtures.kafka import read_topic, wait_for


def _file(i: int, batch: str) -> FileIngestedV1:
    return FileIngestedV1(workspace_id="ws", batch_id=batch, file_name=f"{i}.jpg", content_type="image/jpeg",
                          size_bytes=i, object_key=f"k/{i}")


async def test_only_committed_events_are_relayed_in_order(pool: asyncpg.Pool, settings: ServiceSettings,
                                                          unique: str) -> None:
    prefix = settings.kafka.topic_prefix
    await ensure_topics(settings.kafka)
    with pytest.raises(RuntimeError):
        async with pool.acquire() as conn, conn.transaction():
            await stage(conn, prefix, _file(99, unique))
            raise RuntimeError("rolled back: the event must never be published")
    committed = [_file(i, unique) for i in range(5)]
    async with pool.acquire() as conn, conn.transaction():
        await stage(conn, prefix, committed[0])
        await stage_many(conn, prefix, committed[1:])

    broker = build_broker(settings.kafka, client_id="test-relay")
    await broker.start()
    relay = OutboxRelay(pool, broker)
    await relay.start()
    try:
        ids = [e.event_id for e in committed]
        published = await wait_for(lambda: pool.fetchval(
            "SELECT count(*) = $2 FROM outbox WHERE event_id = ANY($1) AND published_at IS NOT NULL", ids, len(ids)))
        assert published
    finally:
        await relay.stop()
        await broker.stop()

    records = await read_topic(settings.kafka.bootstrap_servers, topic_name(prefix, Topic.FILES_INGESTED), 5)
    assert [json.loads(r.value)["event_id"] for r in records] == ids  # one key: one partition, commit order
    assert {r.key.decode() for r in records} == {f"ws/{unique}"}
    assert all(dict(r.headers)["event-type"] == b"file.ingested@v1" for r in records)
    assert await pool.fetchval("SELECT count(*) FROM outbox WHERE payload->>'file_name' = '99.jpg' "
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
                await stage(conn, prefix, late)
        return sent

    broker.publish = publish_then_commit_another  # type: ignore[method-assign]
    relay = OutboxRelay(pool, broker, idle_poll_s=60)
    await relay.start()
    try:
        async with pool.acquire() as conn, conn.transaction():
            await stage(conn, prefix, first)
        published = await wait_for(lambda: pool.fetchval(
            "SELECT count(*) = 2 FROM outbox WHERE event_id = ANY($1) AND published_at IS NOT NULL",
            [first.event_id, late.event_id]), timeout=10)
        assert published
    finally:
        await relay.stop()
        await broker.stop()
