"""The event contract: versioned, frozen pydantic models and the topic registry."""

from shared.events.base import EventBase
from shared.events.ingest import IngestCompletedV1, ShardReadyV1
from shared.events.jobs import (
    ArchiveTask,
    ExportCompletedV1,
    FailedFile,
    JobProgressV1,
    JobState,
    JobStateChangedV1,
    ModelExecution,
    ModelRef,
    ProcessingCompletedV1,
    StageCompleteV1,
    StageId,
    TaskDoneV1,
    TaskReadyV1,
    TaskReadyV2,
    TaskStatus,
)
from shared.events.notifications import NotificationRequestedV1
from shared.events.topics import REGISTRY, Topic, TopicSpec, decode, topic_for, topic_name
from shared.events.workers import TaskProgressV1, TaskStartedV1, WorkerAliveV1

__all__ = [
    "REGISTRY",
    "ArchiveTask",
    "EventBase",
    "ExportCompletedV1",
    "FailedFile",
    "IngestCompletedV1",
    "JobProgressV1",
    "JobState",
    "JobStateChangedV1",
    "ModelExecution",
    "ModelRef",
    "NotificationRequestedV1",
    "ProcessingCompletedV1",
    "ShardReadyV1",
    "StageCompleteV1",
    "StageId",
    "TaskDoneV1",
    "TaskProgressV1",
    "TaskReadyV1",
    "TaskReadyV2",
    "TaskStartedV1",
    "TaskStatus",
    "Topic",
    "TopicSpec",
    "WorkerAliveV1",
    "decode",
    "topic_for",
    "topic_name",
]
