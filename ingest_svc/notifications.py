"""Webhook payloads of data staging (``roboflow-data-staging-notification-v1``), handed to notifier_svc.

``ingest-status`` is sent once per ingest (one ``ingestId``), when every shard of it has finished, with
the totals over all of them: an automation that starts a job on it finds every file of the ingest staged.
``files-status`` lists the ingested and failed files of each shard as it finishes, in bulks of at most
``FILES_PER_NOTIFICATION`` names. ``delivery_attempt`` is added by the notifier.
"""

from __future__ import annotations

from ingest_svc.repository import Ingest, IngestTotals
from shared.events import NotificationRequestedV1
from shared.events.webhooks import (
    ErrorDetails,
    FailedFileEntry,
    FilesStatusV1,
    IngestStatusV1,
    StagingNotificationV1,
)

FILES_PER_NOTIFICATION = 1000


def _request(workspace_id: str, url: str, category: str, batch_id: str, ingest_id: str | None,
             payload: StagingNotificationV1) -> NotificationRequestedV1:
    return NotificationRequestedV1(workspace_id=workspace_id, url=url, category=category, subject_kind="batch",
                                   subject_id=batch_id, payload=payload.model_dump(mode="json"),
                                   correlation_id=ingest_id)


def ingest_status(ingest: Ingest, totals: IngestTotals) -> list[NotificationRequestedV1]:
    """The one ``ingest-status`` notification of a finished ingest (none unless the category was asked for)."""
    if not ingest.notifications_url or "ingest-status" not in ingest.notification_categories:
        return []
    error = None
    if totals.failed_shards:
        kind, _, reason = (totals.first_error or "indexing-failed: ").partition(": ")
        error = ErrorDetails(type=kind, reason=reason, failed_shards_count=totals.failed_shards)
    status = IngestStatusV1(success=totals.failed_shards == 0, shards_count=totals.shards,
                            ingested_files_count=totals.ingested, failed_files_count=totals.failed_files,
                            error_details=error)
    payload = StagingNotificationV1(ingest_id=ingest.ingest_id, batch_id=ingest.batch_id, shard_id=None,
                                    notification=status)
    return [_request(ingest.workspace_id, ingest.notifications_url, "ingest-status", ingest.batch_id,
                     ingest.ingest_id, payload)]


def files_status(*, workspace_id: str, url: str, categories: list[str], ingest_id: str | None, batch_id: str,
                 shard_id: str, ingested: list[str],
                 failed: list[tuple[str, str, str]]) -> list[NotificationRequestedV1]:
    """``files-status`` notifications of one indexed shard; ``failed`` holds (name, type, reason)."""
    if "files-status" not in categories:
        return []
    entries: list[str | tuple[str, str, str]] = [*ingested, *failed]
    requests = []
    for start in range(0, max(len(entries), 1), FILES_PER_NOTIFICATION):
        chunk = entries[start:start + FILES_PER_NOTIFICATION]
        status = FilesStatusV1(
            ingested_files=[e for e in chunk if isinstance(e, str)],
            failed_files=[FailedFileEntry(type=e[1], file_name=e[0], reason=e[2]) for e in chunk
                          if not isinstance(e, str)])
        requests.append(_request(workspace_id, url, "files-status", batch_id, ingest_id, StagingNotificationV1(
            ingest_id=ingest_id, batch_id=batch_id, shard_id=shard_id, notification=status)))
    return requests
