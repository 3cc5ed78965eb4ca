"""Kafka subscriber of notifier_svc: webhook requests become stored deliveries (idempotent)."""

from __future__ import annotations

from collections.abc import Callable

from notifier_svc.config import NotifierSettings
from notifier_svc.service import accept_request
from shared.broker import Subscriptions
from shared.db import transaction
from shared.events import NotificationRequestedV1, Topic
from shared.runtime import Resources


def build(res: Resources, settings: NotifierSettings, stored: Callable[[], None]) -> Subscriptions:
    """``stored`` is called once a delivery is committed (it wakes this process's dispatcher)."""
    subs = Subscriptions(res.settings.kafka)

    async def requested(event: NotificationRequestedV1) -> None:
        async with transaction(res.pool) as conn:
            await accept_request(conn, event, settings.max_attempts)
        stored()

    subs.add(Topic.NOTIFICATIONS, group="notifier", handler=requested)
    return subs
