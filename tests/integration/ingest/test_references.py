import asyncio
from datetime import UTC, datetime, timedelta

import asyncpg

from ingest_svc.repository import IngestStore
from shared.storage import ObjectStore
from tests.fixtures.ingest import StagingClient
from tests.fixtures.media import jpeg, mp4
from tests.fixtures.staging import failures, shards_settled


async def _presigned(store: ObjectStore, key: str, data: bytes) -> str:
    await store.put_bytes(key, data)
    return await store.presign_get(key)


async def test_image_references_are_fetched_and_unsafe_urls_refused(
        ingest: StagingClient, store: ObjectStore, unique: str, pool: asyncpg.Pool) -> None:
    refs = [{"name": f"r{i}.jpg", "url": await _presigned(store, f"tests/{unique}/r{i}.jpg", jpeg(i))}
            for i in range(4)]
    unsafe = {
        "loopback.jpg": "http://127.0.0.1:9/x.jpg",
        "metadata.jpg": "http://169.254.169.254/latest/meta-data/",
        "private.jpg": "http://10.1.2.3/x.jpg",
        "file.jpg": "file:///etc/passwd",
        "ftp.jpg": "ftp://example.com/x.jpg",
        "v6.jpg": "http://[::1]/x.jpg",
    }
    refs += [{"name": n, "url": u} for n, u in unsafe.items()]
    refs.append({"name": "missing.jpg", "url": (await store.presign_get(f"tests/{unique}/absent.jpg"))})
    body = {"imageReferences": refs, "ingestId": f"ing-{unique}", "notificationsURL": "https://hooks.example.com/n",
            "notificationCategories": ["files-status"]}
    resp = await ingest.post("/batches/refs/bulk-upload/image-references", json=body, displayName="Refs")
    assert resp.status_code == 200, resp.text
    answer = resp.json()
    assert answer["ingestId"] == f"ing-{unique}" and len(answer["shardIds"]) == 1 and not answer["duplicated"]

    (shard,) = await shards_settled(ingest, "refs")
    assert shard["shardObjectsCount"] == 4 and shard["statusMetadata"]["ingestId"] == f"ing-{unique}"
    failed = await failures(ingest, "refs", shard["shardId"])
    assert {n: t for n, (t, _) in failed.items() if n in unsafe} == {n: "unsafe-url-detected" for n in unsafe}
    assert failed["missing.jpg"][0] == "download-failed" and "404" in failed["missing.jpg"][1]

    again = await ingest.post("/batches/refs/bulk-upload/image-references", json=body)
    assert again.json()["duplicated"] is True and again.json()["shardIds"] == answer["shardIds"]
    assert (await ingest.get("/batches/refs/count")).json() == {"count": 4}

    notes = await pool.fetch("SELECT payload FROM outbox WHERE event_type = 'notification.requested@v1'"
                             " AND payload->>'workspace_id' = $1", ingest.workspace.id)
    assert [n["payload"]["category"] for n in notes] == ["files-status"]  # only the requested category


async def test_a_reference_ingest_notifies_its_status_only_unless_files_are_asked_for(
        ingest: StagingClient, store: ObjectStore, pool: asyncpg.Pool, unique: str) -> None:
    """Roboflow's documented default category is ingest-status: no per-shard files-status unless asked for."""
    refs = [{"name": "one.jpg", "url": await _presigned(store, f"tests/{unique}/one.jpg", jpeg(3))}]
    body = {"imageReferences": refs, "ingestId": f"only-{unique}", "notificationsURL": "https://hooks.example.com/n"}
    resp = await ingest.post("/batches/quiet/bulk-upload/image-references", json=body)
    assert resp.status_code == 200, resp.text
    await shards_settled(ingest, "quiet")
    deadline = asyncio.get_running_loop().time() + 30
    while True:
        notes = await pool.fetch("SELECT payload FROM outbox WHERE event_type = 'notification.requested@v1'"
                                 " AND payload->>'workspace_id' = $1", ingest.workspace.id)
        if notes or asyncio.get_running_loop().time() > deadline:
            break
        await asyncio.sleep(0.2)
    assert [n["payload"]["category"] for n in notes] == ["ingest-status"]


async def test_references_file_url_and_videos(ingest: StagingClient, store: ObjectStore, unique: str) -> None:
    lines = "".join([
        f'{{"name": "v{i}.mp4", "url": "{await _presigned(store, f"tests/{unique}/v{i}.mp4", mp4())}"}}\n'
        for i in range(2)])
    lines += f'{{"name": "not-video.mp4", "url": "{await _presigned(store, f"tests/{unique}/n.jpg", jpeg(1))}"}}\n'
    url = await _presigned(store, f"tests/{unique}/refs.jsonl", lines.encode())
    resp = await ingest.post("/batches/videos/bulk-upload/video-references", json={"videoReferencesURL": url})
    assert resp.status_code == 200, resp.text
    (shard,) = await shards_settled(ingest, "videos")
    assert shard["shardObjectsCount"] == 2
    files = (await ingest.get("/batches/videos/list")).json()["filesMetadata"]
    assert sorted(f["fileName"] for f in files) == ["v0.mp4", "v1.mp4"]
    assert (await failures(ingest, "videos", shard["shardId"]))["not-video.mp4"][0] == "unsupported-content"
    assert (await ingest.get("/batches/videos")).json()["batch"]["batchContentType"] == "videos"


async def test_malformed_reference_requests_are_4xx(ingest: StagingClient) -> None:
    cases = [
        ({}, "exactly one of"),
        ({"imageReferences": []}, "empty"),
        ({"imageReferences": [{"name": "a.jpg"}]}, "url"),
        ({"imageReferences": [{"name": "a", "url": "https://x.example/a"}], "imageReferencesURL": "https://x"},
         "exactly one"),
        ({"imageReferencesURL": "http://127.0.0.1:1/refs.jsonl"}, "unsafe-url-detected"),
        ({"imageReferences": [{"name": "a", "url": "https://x.example/a"}], "notificationsURL": "http://10.0.0.1/h"},
         "unsafe-url-detected"),
        ({"imageReferences": [{"name": "a", "url": "https://x.example/a"}], "notificationCategories": ["bogus"]},
         "notificationCategories"),
    ]
    for body, fragment in cases:
        resp = await ingest.post("/batches/bad-refs/bulk-upload/image-references", json=body)
        assert 400 <= resp.status_code < 500, (body, resp.text)
        assert fragment in resp.text, (body, resp.text)
    not_json = await ingest.http.post(ingest.path("/batches/bad-refs/bulk-upload/image-references"),
                                      params={"api_key": ingest.key}, content=b"{not json",
                                      headers={"Content-Type": "application/json"})
    assert not_json.status_code == 422


async def test_a_crashed_indexers_shard_is_taken_over_after_its_lease(
        ingest: StagingClient, store: ObjectStore, unique: str, pool: asyncpg.Pool) -> None:
    url = await _presigned(store, f"tests/{unique}/x.jpg", jpeg(5))
    key = f"uploads/{ingest.workspace.id}/crash/s1.jsonl"
    await store.put_bytes(key, f'{{"name": "x.jpg", "url": "{url}"}}\n'.encode())
    async with pool.acquire() as conn, conn.transaction():
        repo = IngestStore(conn)
        await repo.insert_batch(ingest.workspace.id, "crash", "crash", "sharded-batch", "images",
                                datetime.now(UTC) + timedelta(days=7))
        await repo.insert_shard(ingest.workspace.id, "crash", "s1", kind="image-references", status="indexing",
                                source_key=key)
        # an indexer claimed it, then died: its lease has run out
        await conn.execute("UPDATE shards SET claimed_until = now() - interval '1 second', attempts = 1"
                           " WHERE workspace_id = $1::uuid AND shard_id = 's1'", ingest.workspace.id)
    (shard,) = await shards_settled(ingest, "crash")
    assert shard["shardObjectsCount"] == 1 and shard["statusType"] == "success"
    async with pool.acquire() as conn:
        row = await IngestStore(conn).get_shard(ingest.workspace.id, "crash", "s1")
    assert row is not None and row.attempts == 2


async def _spent_shard(ingest: StagingClient, pool: asyncpg.Pool, batch: str, status: str, lease_over: bool) -> None:
    """A reference shard whose attempts are all spent, in ``status``."""
    async with pool.acquire() as conn, conn.transaction():
        repo = IngestStore(conn)
        await repo.insert_batch(ingest.workspace.id, batch, batch, "sharded-batch", "images",
                                datetime.now(UTC) + timedelta(days=7))
        await repo.insert_shard(ingest.workspace.id, batch, "s1", kind="image-references", status=status,
                                source_key="uploads/none.jsonl")
        await conn.execute("UPDATE shards SET attempts = $2, claimed_until = CASE WHEN $3 THEN now()"
                           " - interval '1 second' END WHERE workspace_id = $1::uuid AND batch_id = $4",
                           ingest.workspace.id, ingest.settings.indexer_max_attempts, lease_over, batch)


async def test_shards_that_keep_crashing_indexers_are_failed_not_retried_forever(
        ingest: StagingClient, pool: asyncpg.Pool) -> None:
    await _spent_shard(ingest, pool, "poison", "indexing", lease_over=True)
    (shard,) = await shards_settled(ingest, "poison")
    assert shard["statusType"] == "error" and "indexing-failed" in shard["statusMetadata"]["error"]


async def test_a_shard_given_back_after_its_last_attempt_is_failed_not_left_queued(
        ingest: StagingClient, pool: asyncpg.Pool) -> None:
    """An indexing error gives the shard back as uploaded, attempts counted; once they are spent, claim_shard
    no longer takes it, so the sweep must end it (before, it stayed queued-for-indexing forever)."""
    await _spent_shard(ingest, pool, "spent", "uploaded", lease_over=False)
    (shard,) = await shards_settled(ingest, "spent")
    assert shard["statusType"] == "error" and "indexing-failed" in shard["statusMetadata"]["error"]
