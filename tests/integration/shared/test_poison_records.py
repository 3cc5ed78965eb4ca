"""No record can stop a partition: garbage of every kind, on every partition of every registered topic, while
jobs run. Each consumer group dead-letters each bad record once, with its reason, and every job still ends."""

import json
from collections import Counter
from pathlib import Path

from aiokafka.admin import AIOKafkaAdminClient

from shared.broker import DLQ_MAX_BODY_BYTES, Subscriptions, build_broker, ensure_topics
from shared.config import ServiceSettings
from shared.events import REGISTRY, Topic, topic_name
from tests.fixtures.kafka import read_topic, wait_for
from tests.fixtures.media import jpeg
from tests.fixtures.pipeline import Pipeline, job_body
from tests.fixtures.workflows import detect_workflow

EXAMPLES = Path(__file__).parents[2] / "contracts" / "examples"
HUGE = 600 * 1024  # over what a dead letter keeps; with its neighbours, under a 1 MiB fetch


JSON = {"content-type": "application/json"}  # what every real event says it is


def garbage(topic: Topic) -> dict[str, tuple[bytes, bytes | None, dict[str, str]]]:
    """Every kind of bad record, by name: its body, its key and its headers."""
    event_type = REGISTRY[topic].events[0].model_fields["type"].default
    return {
        "not-json": (b"{not json", b"ws/job", JSON),
        "not-utf8-text": (b"\xff\xfe\x00", b"ws/job", {"content-type": "text/plain"}),
        "not-json-bare": (b"\x00\xff{", b"ws/job", {}),
        "json-list": (b"[1, 2, 3]", b"ws/job", JSON),
        "wrong-type": (json.dumps({"type": "no.such.event@v9", "job_id": "j"}).encode(), b"ws/job", JSON),
        "wrong-shape": (json.dumps({"type": event_type, "job_id": ["not", "a", "string"]}).encode(), b"ws/job",
                        JSON),
        "huge": (b"{" + b"x" * HUGE, b"ws/job", JSON),
        "no-key": (b"null", None, JSON),
        "binary-key": (json.dumps({"type": event_type}).encode(), b"\xff\xfe\x00", JSON),
    }


# The consumer groups of each topic in the in-process pipeline: a bad record is dead-lettered once by each.
# Topics read only outside Conveyor, or by every worker process (a broadcast, jobs.states), have no group:
# there the bad record is skipped, and the jobs below ending shows it.
GROUPS = {
    Topic.SHARDS_READY: set(),
    Topic.TASKS_CPU: {"workers-cpu"},
    Topic.TASKS_GPU: set(),  # no gpu worker here; the gpu group's subscriber is the same code (test below)
    Topic.TASKS_DONE: {"scheduler-tasks"},
    Topic.TASKS_PROGRESS: {"scheduler-progress"},
    Topic.WORKERS: {"scheduler-workers"},
    Topic.STAGES: {"export", "scheduler-stages"},
    Topic.JOB_STATES: set(),
    Topic.JOB_PROGRESS: set(),
    Topic.NOTIFICATIONS: {"notifier"},
}


async def _partitions(settings: ServiceSettings, name: str) -> int:
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka.bootstrap_servers)
    await admin.start()
    try:
        (described,) = await admin.describe_topics([name])
        return len(described["partitions"])
    finally:
        await admin.close()


async def _publish_garbage(settings: ServiceSettings) -> dict[Topic, int]:
    """Every kind of garbage on every partition of every topic; the count of bad records per topic."""
    broker = build_broker(settings.kafka, client_id="poison")
    await broker.start()
    sent: dict[Topic, int] = {}
    try:
        for topic in REGISTRY:
            name = topic_name(settings.kafka.topic_prefix, topic)
            partitions = await _partitions(settings, name)
            assert partitions == REGISTRY[topic].partitions
            for part in range(partitions):
                for body, key, headers in garbage(topic).values():
                    await broker.publish(body, name, key=key, partition=part, headers=headers)
            sent[topic] = partitions * len(garbage(topic))
    finally:
        await broker.stop()
    return sent


async def test_garbage_on_every_partition_of_every_topic_is_dead_lettered_and_jobs_still_end(
        pipeline: Pipeline, settings: ServiceSettings) -> None:
    assert set(GROUPS) == set(REGISTRY), "a new topic: say which groups consume it in the pipeline"
    p = pipeline
    for i in range(4):
        name = f"p{i}.jpg"
        assert (await p.staging.post("/batches/poison/upload/image", files={name: (name, jpeg(i))},
                                     fileName=name)).status_code == 200
    assert (await p.put_workflow("detect", detect_workflow())).status_code == 200
    ws = p.staging.workspace.slug
    hooks = f"{p.hook.url}/jobs"
    assert (await p.jobs_post("/jobs/before", json=job_body(ws, "poison", "detect", notificationsURL=hooks))
            ).status_code == 200
    sent = await _publish_garbage(settings)
    assert (await p.jobs_post("/jobs/after", json=job_body(ws, "poison", "detect", notificationsURL=hooks))
            ).status_code == 200

    for job_id in ("before", "after"):
        job = await p.wait_job(job_id, timeout=180)
        assert job["state"] == "succeeded", job
    assert sorted(h["job_id"] for h in await p.wait_hooks(2)) == ["after", "before"]

    for topic, groups in GROUPS.items():
        if not groups:
            continue
        dlq = f"{topic_name(settings.kafka.topic_prefix, topic)}.dlq"
        dead = await read_topic(settings.kafka.bootstrap_servers, dlq, sent[topic] * len(groups), timeout=60)
        headers = [{k: v.decode() for k, v in r.headers} for r in dead]
        by_group = Counter(h["x-dlq-group"].removeprefix(f"{settings.kafka.topic_prefix}.") for h in headers)
        assert by_group == {g: sent[topic] for g in groups}, (topic, by_group)
        assert all(h["x-dlq-reason"].startswith("undecodable payload") for h in headers)
        huge = [(r, h) for r, h in zip(dead, headers, strict=True) if "x-dlq-truncated" in h]
        assert len(huge) == sent[topic] // len(garbage(topic)) * len(groups)
        assert all(len(r.value) == DLQ_MAX_BODY_BYTES and int(h["x-dlq-truncated"]) == HUGE + 1 for r, h in huge)


async def test_the_subscriber_of_every_topic_dead_letters_garbage_and_goes_on(settings: ServiceSettings) -> None:
    """The same code serves every topic; here each one, gpu tasks and the outside-only topics included, gets
    every kind of garbage on one partition before a good event, through a group subscription of its own."""
    await ensure_topics(settings.kafka)
    subs = Subscriptions(settings.kafka, max_attempts=2, retry_backoff_s=0.05)
    seen: list[Topic] = []
    for topic in REGISTRY:
        async def handle(event: object, topic: Topic = topic) -> None:
            seen.append(topic)

        subs.add(topic, group=f"every-{topic.value}", handler=handle)
    broker = build_broker(settings.kafka, client_id="every-topic")
    broker.include_router(subs.router)
    await broker.start()
    try:
        for topic in REGISTRY:
            name = topic_name(settings.kafka.topic_prefix, topic)
            for body, key, headers in garbage(topic).values():
                await broker.publish(body, name, key=key, partition=0, headers=headers)
            # after the garbage, on its partition: a good event (handled only if the partition goes on)
            good = sorted((EXAMPLES / topic.value).glob("v*/*.json"))[-1].read_bytes()
            await broker.publish(good, name, key=b"ws/b", partition=0, headers=JSON)
        assert await wait_for(lambda: len(seen) == len(REGISTRY), timeout=60), seen
    finally:
        await broker.stop()
    for topic in REGISTRY:
        dlq = f"{topic_name(settings.kafka.topic_prefix, topic)}.dlq"
        dead = await read_topic(settings.kafka.bootstrap_servers, dlq, len(garbage(topic)), timeout=30)
        assert len(dead) == len(garbage(topic)), topic
    assert sorted(seen) == sorted(REGISTRY)
