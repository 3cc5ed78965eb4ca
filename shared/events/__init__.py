"""The event contract: versioned, frozen pydantic models and the topic registry."""

from shared.events.base import EventBase
from shared.events.ingest import ShardReadyV1
from shared.events.jobs import JobStateChangedV1, StageCompleteV1, TaskDoneV1, TaskReadyV1
from shared.events.notifications import NotificationRequestedV1
from shared.events.topics import REGISTRY, Topic, TopicSpec, decode, topic_for, topic_name

__all__ = [
    "REGISTRY",
    "EventBase",
    "JobStateChangedV1",
    "NotificationRequestedV1",
    "ShardReadyV1",
    "StageCompleteV1",
    "TaskDoneV1",
    "TaskReadyV1",
    "Topic",
    "TopicSpec",
    "decode",
    "topic_for",
    "topic_name",
]
