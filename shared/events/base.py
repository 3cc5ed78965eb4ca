"""Base of every event exchanged over Kafka.

Events are immutable facts. Each concrete event narrows ``type`` to a ``Literal`` that embeds its
version (``"shard.ready@v1"``); a breaking change adds a ``V2`` class next to the old one, and new
fields are added as optional so consumers can be rolled out first.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict, Field


def utcnow() -> datetime:
    return datetime.now(UTC)


class EventBase(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    type: str
    event_id: str = Field(default_factory=lambda: uuid.uuid4().hex)
    occurred_at: datetime = Field(default_factory=utcnow)
    # Carries the id of the request or job the event descends from, for log correlation.
    correlation_id: str | None = None

    def key(self) -> str:
        """Kafka message key: events of one aggregate share a key, hence a partition and an order."""
        raise NotImplementedError


def correlation_of(payload: dict[str, object], key: str) -> str:
    """The ``correlation_id`` header of an event: the id its producer named, else the job or ingest it is about,
    else its message key (``<workspace id>/<batch>/...``). Never a fresh id: a consumer groups a job's events by
    it, every event of one job carrying the job's id."""
    for field in ("correlation_id", "job_id", "ingest_id"):
        if payload.get(field):
            return str(payload[field])
    return key


CLOUDEVENTS_SPEC = "1.0"


def cloud_event_headers(event_type: str, event_id: str, occurred_at: str, source: str) -> dict[str, str]:
    """The Kafka headers of an event: CloudEvents 1.0 in binary mode (``ce_*``, ``content-type``), so a consumer
    routes and deduplicates without decoding the payload, and the ``event-type`` / ``event-id`` Conveyor's own
    consumers read."""
    return {"ce_specversion": CLOUDEVENTS_SPEC, "ce_id": event_id, "ce_type": event_type, "ce_source": source,
            "ce_time": occurred_at, "content-type": "application/json", "event-type": event_type,
            "event-id": event_id}


def source_of(service: str) -> str:
    """The CloudEvents ``source`` of what ``service`` publishes."""
    return f"/conveyor/{service}"
