"""The webhook payloads Conveyor sends: Roboflow's data-staging and batch-job notifications, as typed models.

They are the body of each delivery (``notifier_svc`` adds ``delivery_attempt``, 1 for the first) and keep the
shapes Roboflow's services send, so receivers written for Roboflow work unchanged. Their JSON Schemas are
published beside the events' (``shared/events/schema/webhooks/``); ``conveyor_client.client.verify_webhook`` checks a
delivery's Standard Webhooks signature and returns it as one of these models.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, TypeAdapter


class _Payload(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


def _new_id() -> str:
    return str(uuid.uuid4())


class ErrorDetails(_Payload):
    type: str
    reason: str
    failed_shards_count: int


class IngestStatusV1(_Payload):
    """Once per ingest, when every shard of it has finished, with the totals over all of them."""

    type: Literal["ingest-status-notification-v1"] = "ingest-status-notification-v1"
    success: bool
    shards_count: int
    ingested_files_count: int
    failed_files_count: int
    error_details: ErrorDetails | None = Field(default=None, exclude_if=lambda v: v is None)


class FailedFileEntry(_Payload):
    type: str  # why, as a kind: image-too-large, unsupported-format, ...
    file_name: str
    reason: str


class FilesStatusV1(_Payload):
    """The ingested and failed files of one shard, as it finishes (in bulks of at most 1,000 names)."""

    type: Literal["ingest-files-status-notification-v1"] = "ingest-files-status-notification-v1"
    success: bool = True
    ingested_files: list[str]
    failed_files: list[FailedFileEntry]
    content_truncated: bool = False


class StagingNotificationV1(_Payload):
    """A data-staging notification (``notificationCategories``: ``ingest-status``, ``files-status``)."""

    type: Literal["roboflow-data-staging-notification-v1"] = "roboflow-data-staging-notification-v1"
    event_id: str = Field(default_factory=_new_id)
    ingest_id: str | None
    batch_id: str
    shard_id: str | None
    notification: Annotated[IngestStatusV1 | FilesStatusV1, Discriminator("type")]
    delivery_attempt: int | None = Field(default=None, exclude_if=lambda v: v is None)


class JobNotificationV1(_Payload):
    """A job's end: ``success`` when it succeeded, ``fail`` when it failed or was aborted."""

    type: Literal["roboflow-batch-job-notification-v1"] = "roboflow-batch-job-notification-v1"
    event_id: str = Field(default_factory=_new_id)
    job_id: str
    job_state: Literal["success", "fail"]
    delivery_attempt: int | None = Field(default=None, exclude_if=lambda v: v is None)


WebhookPayload = Annotated[StagingNotificationV1 | JobNotificationV1, Discriminator("type")]
PAYLOADS: TypeAdapter[StagingNotificationV1 | JobNotificationV1] = TypeAdapter(WebhookPayload)
WEBHOOK_MODELS: tuple[type[_Payload], ...] = (StagingNotificationV1, JobNotificationV1)
