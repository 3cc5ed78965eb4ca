"""Bodies of the delivery log API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from shared.schemas import Camel


class DeliveryAttempt(Camel):
    attempt: int
    status_code: int | None
    error: str | None
    duration_ms: int
    attempted_at: datetime


class DeliveryInfo(Camel):
    delivery_id: str
    event_id: str
    url: str
    category: str
    subject_kind: str
    subject_id: str
    status: str
    attempts: int
    max_attempts: int
    last_status_code: int | None
    last_error: str | None
    next_attempt_at: datetime
    delivered_at: datetime | None
    created_at: datetime
    payload: dict[str, Any]
    attempt_log: list[DeliveryAttempt] | None = None


class ListDeliveriesResponse(Camel):
    deliveries: list[DeliveryInfo]
    next_page_token: str | None = None
