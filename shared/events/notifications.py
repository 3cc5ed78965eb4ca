"""Webhook requests handed to notifier_svc."""

from __future__ import annotations

from typing import Any, Literal

from shared.events.base import EventBase


class NotificationRequestedV1(EventBase):
    """Emitted (through the outbox) by any service that wants a webhook delivered.

    Consumed by notifier_svc, which signs, delivers and retries it. ``payload`` is the exact JSON body
    (``roboflow-data-staging-notification-v1`` or ``roboflow-batch-job-notification-v1``).
    """

    type: Literal["notification.requested@v1"] = "notification.requested@v1"
    workspace_id: str
    url: str
    category: str
    subject_kind: Literal["batch", "job"]
    subject_id: str
    payload: dict[str, Any]

    def key(self) -> str:
        return f"{self.workspace_id}/{self.subject_kind}/{self.subject_id}"
