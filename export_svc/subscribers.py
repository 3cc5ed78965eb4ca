"""Kafka subscriber of export_svc: jobs whose processing stage completed."""

from __future__ import annotations

from export_svc.service import Exporter
from shared.broker import Subscriptions
from shared.events import ExportCompletedV1, ProcessingCompletedV1, StageCompleteV1, Topic
from shared.runtime import Resources


def build(res: Resources, exporter: Exporter) -> Subscriptions:
    subs = Subscriptions(res.settings.kafka)

    async def stage_complete(event: ProcessingCompletedV1 | ExportCompletedV1 | StageCompleteV1) -> None:
        if isinstance(event, StageCompleteV1):
            if event.superseded_by:  # the deprecated twin of an event handled on its own
                return
            event = event.upgraded()  # written before an upgrade
        if isinstance(event, ProcessingCompletedV1):  # an export's end is this service's own, for the scheduler
            await exporter.on_processing_completed(event)

    subs.add(Topic.STAGES, group="export", handler=stage_complete)
    return subs
