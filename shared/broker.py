"""The one place that builds the FastStream Kafka broker and registers subscribers.

Every subscriber states its consumer group and ack policy. The default is ``NACK_ON_ERROR``: the offset
is committed only after the handler returned, so delivery is at least once and handlers must be
idempotent. Errors are sorted by what the consumer must do:

* a payload that does not decode (not JSON, not UTF-8, the wrong shape, an unknown type or version), or a
  handler raising ``InvalidEvent``: published to ``<topic>.dlq`` with the reason, then acknowledged (never
  retried). FastStream's own JSON decoding is switched off (``_raw``): it raised before the handler ran, so
  the record was nacked and redelivered for ever, wedging its partition;
* any other exception: retried with backoff, ``max_attempts`` times, then dead-lettered as well, so a
  poison message cannot stall a partition forever.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from faststream import AckPolicy
from faststream.kafka import KafkaBroker, KafkaMessage, KafkaRouter
from faststream.kafka.opentelemetry import KafkaTelemetryMiddleware
from pydantic import ValidationError

from shared.config import KafkaSettings
from shared.errors import InvalidEvent, is_transient
from shared.events import REGISTRY, EventBase, Topic, decode, topic_name
from shared.events.base import cloud_event_headers, correlation_of, source_of
from shared.logs import bound

log = logging.getLogger(__name__)

Handler = Callable[[Any], Awaitable[None]]

# A dead letter keeps at most this much of the record (the rest is cut, and ``x-dlq-truncated`` gives the
# record's size), so that it fits the producer's 1 MiB request limit: a record too large to dead-letter would
# otherwise be retried for ever.
DLQ_MAX_BODY_BYTES = 512 * 1024


async def _raw(msg: KafkaMessage) -> bytes:
    """The body as it came: the subscriber decodes it itself, so that a bad one is dead-lettered, not retried."""
    return bytes(msg.body)


def _decode(topic: Topic, body: bytes) -> EventBase | str:
    """The event, or why the record is not one."""
    try:
        return decode(topic, body)
    except ValidationError as exc:
        return f"undecodable payload: {exc.errors(include_url=False, include_input=False)[:3]}"
    except Exception as exc:  # whatever a record holds, it must not stop the partition
        return f"undecodable payload: {exc!r}"[:1000]


def build_broker(kafka: KafkaSettings, client_id: str) -> KafkaBroker:
    # No idempotent producer: Tansu rejects InitProducerId v0 (aiokafka's only version). Handlers are
    # idempotent instead, and acks="all" keeps acknowledged records durable on Apache Kafka too.
    return KafkaBroker(
        kafka.bootstrap_servers,
        client_id=client_id,
        # trace context in and out of every message (a no-op without a tracer provider: shared.tracing)
        middlewares=(KafkaTelemetryMiddleware(),),
        acks="all",
        linger_ms=5,
        enable_idempotence=False,
        allow_auto_create_topics=True,
        logger=log,
        log_level=logging.DEBUG,
    )


async def start_broker(broker: KafkaBroker) -> None:
    """``broker.start()`` with the subscribers started at once: each one's consumer waits for its group's join
    (seconds), and in sequence a service with four subscriptions would start four times slower, which a
    replica added to catch up a backlog cannot afford."""
    await broker.connect()
    await asyncio.gather(*(sub.start() for sub in broker.subscribers))
    for pub in broker.publishers:
        await pub.start()
    broker.running = True


def missing_topics(kafka: KafkaSettings, existing: set[str]) -> list[NewTopic]:
    """Every registered topic and its dead-letter topic that ``existing`` lacks, as the settings make them."""
    wanted = []
    for spec in REGISTRY.values():
        name = topic_name(kafka.topic_prefix, spec.topic)
        for topic, parts in ((name, spec.partitions), (f"{name}.dlq", 1)):
            if topic not in existing:
                wanted.append(NewTopic(topic, num_partitions=parts, replication_factor=kafka.replication_factor))
    return wanted


async def ensure_topics(kafka: KafkaSettings) -> None:
    """Create every registered topic (and its dead-letter topic) if missing."""
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka.bootstrap_servers)
    await admin.start()
    try:
        wanted = missing_topics(kafka, set(await admin.list_topics()))
        for new in wanted:  # one by one: an "already exists" from a racing service is fine
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics([new])
    finally:
        await admin.close()


class Subscriptions:
    """Registers typed event handlers on a router with explicit group, ack policy and DLQ behaviour."""

    def __init__(self, kafka: KafkaSettings, *, max_attempts: int = 5, retry_backoff_s: float = 0.5,
                 max_backoff_s: float = 10.0) -> None:
        self.kafka = kafka
        self.max_backoff_s = max_backoff_s
        self.router = KafkaRouter()
        self.max_attempts = max_attempts
        self.retry_backoff_s = retry_backoff_s
        self._groups: set[str] = set()
        # (topic, group) of every subscription: what the topic registry is checked against
        self.subscribed: list[tuple[Topic, str]] = []

    def add(
        self,
        topic: Topic,
        group: str,
        handler: Handler,
        *,
        max_workers: int = 1,
        ack_policy: AckPolicy = AckPolicy.NACK_ON_ERROR,
        max_poll_records: int | None = None,
    ) -> None:
        name = topic_name(self.kafka.topic_prefix, topic)
        dlq = f"{name}.dlq"
        group = f"{self.kafka.topic_prefix}.{group}"  # deployments sharing a cluster never share a group
        if group in self._groups:
            # two consumers of one process in one group rebalance each other at every (re)start
            raise ValueError(f"consumer group {group!r} already has a subscription here; give each its own")
        self._groups.add(group)
        self.subscribed.append((topic, group))
        kafka = self.kafka
        router = self.router
        dlq_publisher = router.publisher(dlq, include_in_schema=False)
        options: dict[str, Any] = dict(
            group_id=group,
            ack_policy=ack_policy,
            auto_offset_reset="earliest",
            session_timeout_ms=kafka.session_timeout_ms,
            heartbeat_interval_ms=kafka.heartbeat_interval_ms,
            max_poll_interval_ms=kafka.max_poll_interval_ms,
            fetch_max_wait_ms=kafka.fetch_max_wait_ms,
            max_workers=max_workers,
        )
        if max_poll_records:
            options["max_poll_records"] = max_poll_records

        async def _dead_letter(msg: KafkaMessage, reason: str) -> None:
            log.error("dead-lettering message from %s: %s", name, reason)
            record: Any = msg.raw_message
            headers = {k: v for k, v in (msg.headers or {}).items() if isinstance(v, str)}
            headers["x-dlq-reason"] = reason[:1000]
            headers["x-dlq-group"] = group
            headers["x-dlq-origin"] = f"{record.topic}/{record.partition}/{record.offset}"
            body = bytes(msg.body)
            if len(body) > DLQ_MAX_BODY_BYTES:
                headers["x-dlq-truncated"] = str(len(body))
                body = body[:DLQ_MAX_BODY_BYTES]
            attempt = 0
            while True:
                attempt += 1
                try:
                    await dlq_publisher.publish(body, key=record.key, headers=headers)
                    return
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    if is_transient(exc):  # the broker is away: the dead letter waits for it, as a handler does
                        await asyncio.sleep(min(self.max_backoff_s, self.retry_backoff_s * 2 ** min(attempt, 8)))
                        continue
                    # the dead-letter topic itself refuses it: say so in the log, and let the partition go on
                    log.error("could not dead-letter %s (%s): %r; the record is skipped", headers["x-dlq-origin"],
                              reason, exc)
                    return

        @router.subscriber(name, decoder=_raw, **options)
        async def _consume(msg: KafkaMessage) -> None:
            event = _decode(topic, bytes(msg.body))
            if isinstance(event, str):
                await _dead_letter(msg, event)
                return
            ids = {k: getattr(event, k, None) for k in ("workspace_id", "job_id", "batch_id", "task_id")}
            attempt = 0
            while True:
                attempt += 1
                try:
                    with bound(event_type=event.type, event_id=event.event_id, **ids):
                        await handler(event)
                    return
                except InvalidEvent as exc:
                    await _dead_letter(msg, exc.reason)
                    return
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    if is_transient(exc):
                        # the database, the broker or S3 is away (restarting): wait for it, never drop the event
                        delay = min(self.max_backoff_s, self.retry_backoff_s * 2 ** min(attempt - 1, 8))
                        log.warning("handler for %s waits for the infrastructure (attempt %d): %r", name, attempt,
                                    exc)
                        await asyncio.sleep(delay)
                        continue
                    if attempt >= self.max_attempts:
                        await _dead_letter(msg, f"failed {attempt} times, last error: {exc!r}")
                        return
                    log.warning("handler for %s failed (attempt %d): %r", name, attempt, exc)
                    await asyncio.sleep(self.retry_backoff_s * 2 ** (attempt - 1))


BROADCAST = "(broadcast)"


def add_broadcast(subs: Subscriptions, topic: Topic, handler: Handler) -> None:
    """Every process gets every event of ``topic``, from the start of the topic: no consumer group (no offsets,
    no rebalancing, no group join), for state a process keeps in memory (e.g. which jobs were stopped). A
    handler's error is logged and the event skipped: such state must tolerate a gap."""
    name = topic_name(subs.kafka.topic_prefix, topic)
    subs.subscribed.append((topic, BROADCAST))

    @subs.router.subscriber(name, group_id=None, ack_policy=AckPolicy.MANUAL, auto_offset_reset="earliest",
                            fetch_max_wait_ms=subs.kafka.fetch_max_wait_ms, decoder=_raw)
    async def _consume(msg: KafkaMessage) -> None:
        event = _decode(topic, bytes(msg.body))
        if isinstance(event, str):  # every process reads it: one dead letter each would be noise; the log says it
            log.error("broadcast record of %s skipped: %s", name, event)
            return
        try:
            await handler(event)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("broadcast handler for %s failed; event skipped", name)


async def publish_event(broker: KafkaBroker, prefix: str, topic: Topic, event: EventBase, *,
                        source: str = source_of("unknown")) -> None:
    """Publish directly (not through the outbox): for events whose loss a retry would repair."""
    payload = event.model_dump(mode="json")
    await broker.publish(
        payload,
        topic_name(prefix, topic),
        key=event.key().encode(),
        headers=cloud_event_headers(event.type, event.event_id, payload["occurred_at"], source),
        correlation_id=correlation_of(payload, event.key()),
    )
