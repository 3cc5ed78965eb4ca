import json

import asyncpg
import pytest

from conveyor_client.client import InvalidSignature, StagingNotificationV1, verify_webhook
from shared.events.webhooks import FilesStatusV1
from tests.fixtures.media import jpeg, tar_of
from tests.fixtures.pipeline import Pipeline
from tests.fixtures.staging import shards_settled, upload_tar


async def test_ingest_webhooks_arrive_through_the_notifier(pipeline: Pipeline, pool: asyncpg.Pool) -> None:
    p = pipeline
    config = {"ingestId": "ingest-42", "notificationsURL": f"{p.hook.url}/staging"}
    tar = tar_of({"a.jpg": jpeg(1), "b.jpg": jpeg(2), "bad.jpg": b"nope",
                  "notification_config.json": json.dumps(config).encode()})
    await upload_tar(p.staging, "hooked", tar)
    await shards_settled(p.staging, "hooked")
    hooks = await p.wait_hooks(2)
    by_type = {h["notification"]["type"]: h for h in hooks}
    status = by_type["ingest-status-notification-v1"]
    files = by_type["ingest-files-status-notification-v1"]
    for h in (status, files):
        assert h["type"] == "roboflow-data-staging-notification-v1" and h["ingest_id"] == "ingest-42"
        assert h["batch_id"] == "hooked" and h["delivery_attempt"] == 1
    assert status["notification"]["success"] is True
    assert sorted(files["notification"]["ingested_files"]) == ["a.jpg", "b.jpg"]
    assert files["notification"]["failed_files"] == [
        {"type": "unsupported-content", "file_name": "bad.jpg",
         "reason": "bad.jpg is not an image (JPEG, PNG, BMP, GIF, WEBP, TIFF or JPEG 2000)"}]
    assert all(r.path == "/staging" and r.headers["webhook-signature"].startswith("v1,") for r in p.hook.requests)
    # what a receiver does with the Python client: check the signature, read the typed payload
    secret = await pool.fetchval("SELECT secret FROM webhook_signing WHERE workspace_id = $1::uuid",
                                 p.staging.workspace.id)
    verified = [verify_webhook(secret, r.headers, r.body) for r in p.hook.requests]
    read = [r for r in verified if isinstance(r, StagingNotificationV1) and r.delivery_attempt == 1]
    assert len(read) == len(verified) == 2
    (typed_files,) = [r.notification for r in read if isinstance(r.notification, FilesStatusV1)]
    assert sorted(typed_files.ingested_files) == ["a.jpg", "b.jpg"] and typed_files.failed_files[0].file_name == (
        "bad.jpg")
    with pytest.raises(InvalidSignature):
        verify_webhook(secret, p.hook.requests[0].headers, p.hook.requests[0].body.replace(b"a.jpg", b"x.jpg"))
