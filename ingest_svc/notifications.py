"""Webhook payloads of data staging (``roboflow-data-staging-notification-v1``), handed to notifier_svc.

``ingest-status`` tells whether an ingest unit was indexed; ``files-status`` lists ingested and failed
files, in bulks of at most ``FILES_PER_NOTIFICATION`` names. ``delivery_attempt`` is added by the notifier.
"""

from __future__ import annotations

import uuid
from typing import Any

from shared.events import NotificationRequestedV1

FILES_PER_NOTIFICATION = 1000


def _base(ingest_id: str | None, batch_id: str, shard_id: str | None, notification: dict[str, Any]) -> dict[str, Any]:
    return {"type": "roboflow-data-staging-notification-v1", "event_id": str(uuid.uuid4()), "ingest_id": ingest_id,
            "batch_id": batch_id, "shard_id": shard_id, "notification": notification}


def staging_notifications(*, workspace_id: str, url: str, categories: list[str], ingest_id: str | None,
                          batch_id: str, shard_id: str | None, ingested: list[str],
                          failed: list[tuple[str, str, str]], error: tuple[str, str] | None = None,
                          ) -> list[NotificationRequestedV1]:
    """Notifications for one finished (or failed) ingest unit; ``failed`` holds (name, type, reason)."""
    payloads: list[tuple[str, dict[str, Any]]] = []
    if "ingest-status" in categories:
        status: dict[str, Any] = {"type": "ingest-status-notification-v1", "success": error is None}
        if error is not None:
            status["error_details"] = {"type": error[0], "reason": error[1]}
        else:
            status["ingested_files_count"] = len(ingested)
            status["failed_files_count"] = len(failed)
        payloads.append(("ingest-status", _base(ingest_id, batch_id, shard_id, status)))
    if "files-status" in categories and error is None:
        entries: list[tuple[str, Any]] = [("ok", n) for n in ingested] + [("failed", f) for f in failed]
        for start in range(0, max(len(entries), 1), FILES_PER_NOTIFICATION):
            chunk = entries[start:start + FILES_PER_NOTIFICATION]
            payloads.append(("files-status", _base(ingest_id, batch_id, shard_id, {
                "type": "ingest-files-status-notification-v1",
                "success": True,
                "ingested_files": [n for kind, n in chunk if kind == "ok"],
                "failed_files": [{"type": f[1], "file_name": f[0], "reason": f[2]}
                                 for kind, f in chunk if kind == "failed"],
                "content_truncated": False,
            })))
    return [
        NotificationRequestedV1(workspace_id=workspace_id, url=url, category=category, subject_kind="batch",
                                subject_id=batch_id, payload=payload, correlation_id=ingest_id)
        for category, payload in payloads
    ]
