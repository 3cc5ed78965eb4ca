"""Kafka subscriber of export_svc: completed processing stages."""

from __future__ import annotations

from export_svc.service import Exporter
from shared.broker import Subscriptions
from shared.events import StageCompleteV1, Topic
from shared.runtime import Resources


def build(res: Resources, exporter: Exporter) -> Subscriptions:
    subs = Subscriptions(res.settings.kafka)

    async def stage_complete(event: StageCompleteV1) -> None:
        await exporter.on_stage_complete(event)

    subs.add(Topic.STAGES, group="export", handler=stage_complete)
    return subs
