"""Events of data staging (produced by ingest_svc)."""

from __future__ import annotations

from typing import Literal

from shared.events.base import EventBase


class ShardReadyV1(EventBase):
    """Emitted (through the outbox) when an ingest unit (a tar, a references chunk) is fully indexed, or failed.

    A public event, for consumers outside Conveyor; no Conveyor service consumes it (ingest itself sends the
    ingest-status and files-status webhooks).
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


class IngestCompletedV1(EventBase):
    """Emitted (through the outbox) once per ingest (one ``ingestId``: a references request, or the tars that
    name it), when every shard of it has finished: the totals over all of them. Sent whether or not the ingest
    asked for a webhook (its ``ingest-status`` webhook carries the same totals).

    A public event, for consumers outside Conveyor; no Conveyor service consumes it.
    """

    type: Literal["ingest.completed@v1"] = "ingest.completed@v1"
    workspace_id: str
    batch_id: str
    ingest_id: str
    success: bool  # no shard failed
    shards: int
    failed_shards: int
    ingested_files: int
    failed_files: int

    def key(self) -> str:
        return f"{self.workspace_id}/{self.batch_id}"
