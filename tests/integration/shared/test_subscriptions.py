import asyncio
import json
import statistics
import time

from deploy.local.stack import TANSU_FETCH_MAX_WAIT_MS
from shared.broker import Subscriptions, build_broker, ensure_topics, publish_event
from shared.config import ServiceSettings
from shared.errors import InvalidEvent
from shared.events import ShardReadyV1, Topic, topic_name
from shared.events.base import source_of
from tests.fixtures.kafka import read_topic, wait_for


def _shard(shard_id: str) -> ShardReadyV1:
    return ShardReadyV1(workspace_id="ws", batch_id="b", shard_id=shard_id, ingested_files=1, failed_files=0)


async def test_handlers_get_typed_events_and_poison_goes_to_the_dead_letter_topic(settings: ServiceSettings) -> None:
    await ensure_topics(settings.kafka)
    seen: list[str] = []
    # more transient failures than max_attempts: waiting for the infrastructure is not bounded
    failures = {"flaky": 4}
    broken_attempts = 0

    async def handle(event: ShardReadyV1) -> None:
        nonlocal broken_attempts
        assert isinstance(event, ShardReadyV1)
        if event.shard_id == "invalid":
            raise InvalidEvent("shard is unknown")
        if event.shard_id == "broken":  # not the infrastructure: retried max_attempts times, then dead-lettered
            broken_attempts += 1
            raise FileNotFoundError(2, "No such file or directory", "/data/missing.tar")
        if failures.get(event.shard_id, 0) > 0:
            failures[event.shard_id] -= 1
            raise ConnectionError("database away")
        seen.append(event.shard_id)

    subs = Subscriptions(settings.kafka, max_attempts=3, retry_backoff_s=0.05)
    subs.add(Topic.SHARDS_READY, group=f"{settings.kafka.topic_prefix}-g", handler=handle)
    broker = build_broker(settings.kafka, client_id="test-subs")
    broker.include_router(subs.router)
    name = topic_name(settings.kafka.topic_prefix, Topic.SHARDS_READY)
    await broker.start()
    try:
        good = _shard("good")
        await publish_event(broker, settings.kafka.topic_prefix, Topic.SHARDS_READY, good, source=source_of("test"))
        await broker.publish({"type": "shard.ready@v1", "shard_id": "no other fields"}, name, key=b"ws/b")
        await publish_event(broker, settings.kafka.topic_prefix, Topic.SHARDS_READY, _shard("invalid"))
        await publish_event(broker, settings.kafka.topic_prefix, Topic.SHARDS_READY, _shard("flaky"))
        await publish_event(broker, settings.kafka.topic_prefix, Topic.SHARDS_READY, _shard("broken"))
        await publish_event(broker, settings.kafka.topic_prefix, Topic.SHARDS_READY, _shard("last"))
        assert await wait_for(lambda: len(seen) == 3, timeout=30), seen
    finally:
        await broker.stop()
    assert seen == ["good", "flaky", "last"]  # flaky retried in place, order kept
    assert failures["flaky"] == 0 and broken_attempts == 3
    dead = await read_topic(settings.kafka.bootstrap_servers, f"{name}.dlq", 3)
    reasons = sorted(dict(r.headers)["x-dlq-reason"].decode() for r in dead)
    assert len(dead) == 3
    assert reasons[0].startswith("failed 3 times, last error: FileNotFoundError(2, ")
    assert reasons[1] == "shard is unknown" and reasons[2].startswith("undecodable payload")
    assert json.loads(dead[0].value)["type"] == "shard.ready@v1"
    first = {k: v.decode() for k, v in (await read_topic(settings.kafka.bootstrap_servers, name, 1))[0].headers}
    assert first["ce_id"] == good.event_id and first["ce_type"] == "shard.ready@v1"  # CloudEvents, direct too
    assert first["ce_source"] == "/conveyor/test" and first["ce_specversion"] == "1.0" and first["ce_time"]


async def test_on_the_local_stack_an_event_reaches_its_subscriber_without_waiting_out_the_fetch(
        settings: ServiceSettings) -> None:
    """Tansu answers a waiting fetch only when the wait ends: the local stack sets a short one, so a hop takes
    milliseconds (with Kafka's client default of 500 ms its median was 120 ms)."""
    assert settings.kafka.fetch_max_wait_ms == TANSU_FETCH_MAX_WAIT_MS  # from the stack's environment
    await ensure_topics(settings.kafka)
    sent: dict[str, float] = {}
    hops: list[float] = []

    async def handle(event: ShardReadyV1) -> None:
        if event.shard_id in sent:
            hops.append(time.perf_counter() - sent[event.shard_id])

    subs = Subscriptions(settings.kafka)
    subs.add(Topic.SHARDS_READY, group=f"{settings.kafka.topic_prefix}-hop", handler=handle)
    broker = build_broker(settings.kafka, client_id="test-hop")
    broker.include_router(subs.router)
    await broker.start()
    try:
        await publish_event(broker, settings.kafka.topic_prefix, Topic.SHARDS_READY, _shard("warm"))
        await asyncio.sleep(1.0)  # the group joined, its first fetch answered
        for i in range(9):
            sent[f"hop{i}"] = time.perf_counter()
            await publish_event(broker, settings.kafka.topic_prefix, Topic.SHARDS_READY, _shard(f"hop{i}"))
            await asyncio.sleep(0.1)
        assert await wait_for(lambda: len(hops) == 9, timeout=30), hops
    finally:
        await broker.stop()
    assert statistics.median(hops) < 0.06, [round(h * 1000) for h in hops]
