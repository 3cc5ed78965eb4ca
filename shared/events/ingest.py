"""Events of data staging (produced by ingest_svc)."""

from __future__ import annotations

from typing import Literal

from shared.events.base import EventBase


class FileIngestedV1(EventBase):
    """Emitted (through the outbox) when one file of a batch is durably stored and indexed.

    Consumed by scheduler_svc to keep per-batch counts, and by anything that wants to react to new data.
    """

    type: Literal["file.ingested@v1"] = "file.ingested@v1"
    workspace_id: str
    batch_id: str
    file_name: str
    part_name: str | None = None
    shard_id: str | None = None
    content_type: str
    size_bytes: int
    object_key: str
    # set when the file is kept inside an uploaded archive: its ``size_bytes`` bytes from this offset
    byte_offset: int | None = None

    def key(self) -> str:
        return f"{self.workspace_id}/{self.batch_id}"


class ShardReadyV1(EventBase):
    """Emitted (through the outbox) when an ingest unit (a tar, a references chunk) is fully indexed.

    Consumed by notifier_svc (ingest-status webhooks) and scheduler_svc.
    """

    type: Literal["shard.ready@v1"] = "shard.ready@v1"
    workspace_id: str
    batch_id: str
    shard_id: str
    ingest_id: str | None = None
    ingested_files: int
    failed_files: int

    def key(self) -> str:
        return f"{self.workspace_id}/{self.batch_id}"
