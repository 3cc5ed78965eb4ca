"""An ingest (one ingestId) over many shards: staged whole, notified once, never refused past a shard size."""

import asyncio
import json

import asyncpg
import pytest

from ingest_svc.indexer import Indexer
from shared.storage import ObjectStore
from tests.fixtures.ingest import StagingClient
from tests.fixtures.media import jpeg, tar_of
from tests.fixtures.staging import shards_settled, upload_tar


async def _status_notes(pool: asyncpg.Pool, ws: str, batch: str) -> list[dict]:
    rows = await pool.fetch("SELECT payload FROM outbox WHERE event_type = 'notification.requested@v1'"
                            " AND payload->>'workspace_id' = $1 AND payload->>'subject_id' = $2"
                            " AND payload->>'category' = 'ingest-status'", ws, batch)
    return [r["payload"]["payload"] for r in rows]


@pytest.mark.parametrize("ingest", [{"references_per_shard": 1000}], indirect=True)
async def test_references_past_one_shard_are_staged_whole_and_notified_once(
        ingest: StagingClient, store: ObjectStore, unique: str, pool: asyncpg.Pool) -> None:
    await store.put_bytes(f"tests/{unique}/r.jpg", jpeg(1))
    url = await store.presign_get(f"tests/{unique}/r.jpg")
    body = {"imageReferences": [{"name": f"r{i:04d}.jpg", "url": url} for i in range(2001)],
            "ingestId": f"big-{unique}", "notificationsURL": "https://hooks.example.com/n"}
    resp = await ingest.post("/batches/big/bulk-upload/image-references", json=body)
    assert resp.status_code == 200, resp.text
    assert len(resp.json()["shardIds"]) == 3  # 1,000 + 1,000 + 1

    shards = await shards_settled(ingest, "big", timeout=120)
    assert sorted(s["shardObjectsCount"] for s in shards) == [1, 1000, 1000]
    assert (await ingest.get("/batches/big/count")).json() == {"count": 2001}
    (note,) = await _status_notes(pool, ingest.workspace.id, "big")
    assert note["ingest_id"] == f"big-{unique}" and note["shard_id"] is None
    assert note["notification"] == {"type": "ingest-status-notification-v1", "success": True, "shards_count": 3,
                                    "ingested_files_count": 2001, "failed_files_count": 0}

    again = await ingest.post("/batches/big/bulk-upload/image-references", json=body)
    assert again.json()["duplicated"] is True and sorted(again.json()["shardIds"]) == sorted(resp.json()["shardIds"])
    assert len(await _status_notes(pool, ingest.workspace.id, "big")) == 1


async def test_an_ingest_waits_for_an_open_upload_link_of_its_batch(
        ingest: StagingClient, store: ObjectStore, unique: str, pool: asyncpg.Pool) -> None:
    """A tar names its ingest only inside: while one of the batch's upload links is unused and valid, it may
    still belong to the ingest, so the ingest-status waits; once the link expired, the sweep sends it."""
    link = await ingest.post("/batches/waits/bulk-upload/image-files")
    assert link.status_code == 200
    await store.put_bytes(f"tests/{unique}/w.jpg", jpeg(2))
    body = {"imageReferences": [{"name": "w.jpg", "url": await store.presign_get(f"tests/{unique}/w.jpg")}],
            "ingestId": f"w-{unique}", "notificationsURL": "https://hooks.example.com/n"}
    assert (await ingest.post("/batches/waits/bulk-upload/image-references", json=body)).status_code == 200
    await shards_settled_except_awaiting(ingest, "waits")
    assert await _status_notes(pool, ingest.workspace.id, "waits") == []

    await pool.execute("UPDATE shards SET link_expires_at = now() - interval '1 second',"
                       " created_at = now() - interval '1 hour'"
                       " WHERE workspace_id = $1::uuid AND batch_id = 'waits' AND status = 'awaiting-upload'",
                       ingest.workspace.id)
    indexer = Indexer(ingest.settings, pool, store)
    assert await indexer.sweep_ingests() >= 1
    (note,) = await _status_notes(pool, ingest.workspace.id, "waits")
    assert note["notification"]["ingested_files_count"] == 1


async def shards_settled_except_awaiting(ingest: StagingClient, batch: str) -> None:
    for _ in range(150):
        shards = (await ingest.get(f"/batches/{batch}/shards")).json()["shards"]
        if all(s["statusName"] in ("indexed", "awaiting-upload") for s in shards) and \
                any(s["statusName"] == "indexed" for s in shards):
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"shards of {batch} did not settle")


@pytest.mark.parametrize("ingest", [{"ingest_settle_s": 2.5, "ingest_sweep_interval_s": 0.3}], indirect=True)
async def test_an_ingest_of_tars_is_notified_once_its_batch_has_settled(ingest: StagingClient,
                                                                       pool: asyncpg.Pool) -> None:
    """A client packs each tar before it asks for its link: the next tar of the ingest may come a moment after
    the last one finished, so the webhook waits for a quiet moment, then goes out once with every tar counted."""
    config = json.dumps({"ingestId": "settling", "notificationsURL": "https://hooks.example.com/n"}).encode()
    await upload_tar(ingest, "settle", tar_of({"a.jpg": jpeg(1), "notification_config.json": config}))
    await shards_settled(ingest, "settle")
    await asyncio.sleep(0.6)  # the second tar, packed a little later
    assert await _status_notes(pool, ingest.workspace.id, "settle") == []
    await upload_tar(ingest, "settle", tar_of({"b.jpg": jpeg(2), "notification_config.json": config}))
    await shards_settled(ingest, "settle")
    for _ in range(80):
        notes = await _status_notes(pool, ingest.workspace.id, "settle")
        if notes:
            break
        await asyncio.sleep(0.1)
    await asyncio.sleep(1.0)
    (note,) = await _status_notes(pool, ingest.workspace.id, "settle")
    assert note["notification"]["shards_count"] == 2 and note["notification"]["ingested_files_count"] == 2


async def test_every_ingest_ends_with_one_public_event_webhook_or_not(ingest: StagingClient, store: ObjectStore,
                                                                      unique: str, pool: asyncpg.Pool) -> None:
    await store.put_bytes(f"tests/{unique}/e.jpg", jpeg(2))
    url = await store.presign_get(f"tests/{unique}/e.jpg")
    refs = [{"name": f"e{i}.jpg", "url": url} for i in range(3)] + [{"name": "gone.jpg", "url": url + "x"}]
    resp = await ingest.post("/batches/quiet/bulk-upload/image-references",
                             json={"imageReferences": refs, "ingestId": f"quiet-{unique}"})  # no notificationsURL
    assert resp.status_code == 200, resp.text
    await shards_settled(ingest, "quiet")
    for _ in range(100):
        rows = await pool.fetch("SELECT payload FROM outbox WHERE event_type = 'ingest.completed@v1'"
                                " AND payload->>'ingest_id' = $1", f"quiet-{unique}")
        if rows:
            break
        await asyncio.sleep(0.1)
    (event,) = [r["payload"] for r in rows]
    assert (event["batch_id"], event["shards"], event["ingested_files"], event["failed_files"]) == ("quiet", 1, 3, 1)
    assert event["success"] is True and event["failed_shards"] == 0  # a refused file fails itself, not the shard
    assert await _status_notes(pool, ingest.workspace.id, "quiet") == []  # no webhook was asked for


@pytest.mark.parametrize("ingest", [{"references_per_shard": 3}], indirect=True)
async def test_a_references_file_past_one_shard_is_split_into_shards_of_the_ingest(
        ingest: StagingClient, store: ObjectStore, unique: str, pool: asyncpg.Pool) -> None:
    """A references URL is one shard until its file is read: one of 3 references stays one shard, one of 8
    becomes shards of 3 + 3 + 2 of its ingest, indexed apart; every file once, one ingest-status in all, and
    the request repeated answers every shard of the ingest."""
    await store.put_bytes(f"tests/{unique}/r.jpg", jpeg(1))
    image = await store.presign_get(f"tests/{unique}/r.jpg")
    for batch, count in (("refs-three", 3), ("refs-eight", 8)):
        lines = "".join(json.dumps({"name": f"{batch}-{i}.jpg", "url": image}) + "\n" for i in range(count))
        await store.put_bytes(f"tests/{unique}/{batch}.jsonl", lines.encode())
        body = {"imageReferencesURL": await store.presign_get(f"tests/{unique}/{batch}.jsonl"),
                "ingestId": f"{batch}-{unique}", "notificationsURL": "https://hooks.example.com/n"}
        resp = await ingest.post(f"/batches/{batch}/bulk-upload/image-references", json=body)
        assert resp.status_code == 200 and len(resp.json()["shardIds"]) == 1, resp.text
        # the file's shard is indexing until it has split, and the split shards are queued before that ends
        shards = await shards_settled(ingest, batch)
        assert sorted(s["shardObjectsCount"] for s in shards) == ([3] if count == 3 else [2, 3, 3])
        listed = (await ingest.get(f"/batches/{batch}/list")).json()["filesMetadata"]
        assert sorted(f["fileName"] for f in listed) == sorted(f"{batch}-{i}.jpg" for i in range(count))
        assert (await ingest.get(f"/batches/{batch}/count")).json() == {"count": count}
        (note,) = await _status_notes(pool, ingest.workspace.id, batch)
        assert note["notification"] == {"type": "ingest-status-notification-v1", "success": True,
                                        "shards_count": len(shards), "ingested_files_count": count,
                                        "failed_files_count": 0}
        again = await ingest.post(f"/batches/{batch}/bulk-upload/image-references", json=body)
        assert again.json()["duplicated"] is True
        assert sorted(again.json()["shardIds"]) == sorted(s["shardId"] for s in shards)
