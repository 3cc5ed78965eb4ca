"""The topic registry: every Kafka topic, its key, who produces it, who consumes it, and its payload.

A public topic is part of the contract with consumers outside Conveyor (see the README); the others are
internal. A contract test derives the real producers and consumers from the code and compares them with this
registry, and refuses a topic that nobody consumes unless it is public.

Topic names are ``<prefix>.<suffix>.v<schema_version>``; the prefix comes from ``KafkaSettings`` so
that several deployments (or test runs) can share one cluster. A payload union is decoded with the
topic's ``TypeAdapter``; unknown ``type`` values fail validation and are dead-lettered.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any, Union

from pydantic import Discriminator, TypeAdapter

from shared.events.base import EventBase
from shared.events.ingest import IngestCompletedV1, ShardReadyV1
from shared.events.jobs import (
    ExportCompletedV1,
    JobProgressV1,
    JobStateChangedV1,
    ProcessingCompletedV1,
    StageCompleteV1,
    TaskDoneV1,
    TaskReadyV1,
    TaskReadyV2,
)
from shared.events.notifications import NotificationRequestedV1
from shared.events.workers import TaskProgressV1, TaskStartedV1, WorkerAliveV1


class Topic(StrEnum):
    SHARDS_READY = "ingest.shards"
    TASKS_CPU = "tasks.cpu"
    TASKS_GPU = "tasks.gpu"
    TASKS_DONE = "tasks.done"
    TASKS_PROGRESS = "tasks.progress"
    WORKERS = "workers.liveness"
    STAGES = "jobs.stages"
    JOB_STATES = "jobs.states"
    JOB_PROGRESS = "jobs.progress"
    NOTIFICATIONS = "notifications.requested"


@dataclass(frozen=True)
class TopicSpec:
    topic: Topic
    schema_version: int
    key: str
    producers: tuple[str, ...]
    consumers: tuple[str, ...]
    events: tuple[type[EventBase], ...]  # the payloads it carries
    partitions: int = 3
    public: bool = False

    @functools.cached_property
    def payload(self) -> Any:
        """The payload type: the one event model, or their union told apart by ``type``."""
        if len(self.events) == 1:
            return self.events[0]
        return Annotated[Union[self.events], Discriminator("type")]  # noqa: UP007

    @functools.cached_property
    def adapter(self) -> TypeAdapter[Any]:
        return TypeAdapter(self.payload)


REGISTRY: dict[Topic, TopicSpec] = {
    spec.topic: spec
    for spec in (
        TopicSpec(Topic.SHARDS_READY, 1, "workspace/batch", ("ingest_svc",), (), (ShardReadyV1, IngestCompletedV1),
                  public=True),
        TopicSpec(Topic.TASKS_CPU, 1, "workspace/job/task", ("scheduler_svc",), ("worker_svc",),
                  (TaskReadyV1, TaskReadyV2), partitions=6),
        TopicSpec(Topic.TASKS_GPU, 1, "workspace/job/task", ("scheduler_svc",), ("worker_svc",),
                  (TaskReadyV1, TaskReadyV2), partitions=6),
        TopicSpec(Topic.TASKS_DONE, 1, "workspace/job", ("worker_svc",), ("scheduler_svc",),
                  (TaskDoneV1,)),
        TopicSpec(Topic.TASKS_PROGRESS, 1, "workspace/job/task", ("worker_svc",), ("scheduler_svc",),
                  (TaskStartedV1, TaskProgressV1), partitions=6),
        TopicSpec(Topic.WORKERS, 1, "worker", ("worker_svc",), ("scheduler_svc",), (WorkerAliveV1,)),
        TopicSpec(Topic.STAGES, 1, "workspace/job", ("scheduler_svc", "export_svc"),
                  ("export_svc", "scheduler_svc"), (ProcessingCompletedV1, ExportCompletedV1, StageCompleteV1),
                  public=True),
        TopicSpec(Topic.JOB_STATES, 1, "workspace/job", ("scheduler_svc",), ("worker_svc",),
                  (JobStateChangedV1,), public=True),
        TopicSpec(Topic.JOB_PROGRESS, 1, "workspace/job", ("scheduler_svc",), (), (JobProgressV1,), public=True),
        TopicSpec(Topic.NOTIFICATIONS, 1, "workspace/subject", ("ingest_svc", "scheduler_svc"),
                  ("notifier_svc",), (NotificationRequestedV1,)),
    )
}


def topic_name(prefix: str, topic: Topic) -> str:
    return f"{prefix}.{topic.value}.v{REGISTRY[topic].schema_version}"


def _types_of(spec: TopicSpec) -> set[str]:
    schema = spec.adapter.json_schema()
    found: set[str] = set()
    for definition in [schema, *schema.get("$defs", {}).values()]:
        const = definition.get("properties", {}).get("type", {}).get("const")
        if const:
            found.add(const)
    return found


# Task events go to the topic of the job's machine type, so they are routed explicitly, not by type.
_TOPIC_BY_TYPE: dict[str, Topic] = {
    event_type: spec.topic
    for spec in REGISTRY.values()
    if spec.topic not in (Topic.TASKS_CPU, Topic.TASKS_GPU)
    for event_type in _types_of(spec)
}


def topic_for(event: EventBase) -> Topic:
    """The topic an event belongs on, from its versioned ``type``."""
    try:
        return _TOPIC_BY_TYPE[event.type]
    except KeyError:
        raise LookupError(f"no topic carries events of type {event.type!r}") from None


def decode(topic: Topic, data: bytes | str | dict[str, Any]) -> EventBase:
    adapter = REGISTRY[topic].adapter
    event: EventBase = adapter.validate_python(data) if isinstance(data, dict) else adapter.validate_json(data)
    return event
