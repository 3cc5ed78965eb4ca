import asyncpg

from ingest_svc.sweeper import sweep_once
from shared.storage import ObjectStore, batch_prefix
from tests.fixtures.ingest import StagingClient
from tests.fixtures.media import jpeg


async def test_expired_batches_answer_410_then_disappear_with_their_objects(
        ingest: StagingClient, pool: asyncpg.Pool, store: ObjectStore) -> None:
    for i in range(3):
        resp = await ingest.post("/batches/old/upload/image", files={f"{i}.jpg": (f"{i}.jpg", jpeg(i))},
                                 fileName=f"{i}.jpg")
        assert resp.status_code == 200
    await ingest.post("/batches/fresh/upload/image", files={"a.jpg": ("a.jpg", jpeg(9))}, fileName="a.jpg")
    url = (await ingest.get("/batches/old/list")).json()["filesMetadata"][0]["downloadURL"]
    prefix = batch_prefix(ingest.workspace.id, "old")
    assert len([k async for k in store.list_keys(prefix)]) == 3

    await pool.execute("UPDATE batches SET expires_at = now() - interval '1 second'"
                       " WHERE workspace_id = $1::uuid AND batch_id = 'old'", ingest.workspace.id)
    gone = await ingest.get("/batches/old")
    assert gone.status_code == 410 and "expired" in gone.json()["message"]
    assert (await ingest.get("/batches/old/list")).status_code == 410
    upload = await ingest.post("/batches/old/upload/image", files={"x.jpg": ("x.jpg", jpeg(5))}, fileName="x.jpg")
    assert upload.status_code == 410
    assert [b["batchId"] for b in (await ingest.get("/batches")).json()["batches"]] == ["fresh"]

    while await sweep_once(pool, store):
        pass
    assert (await ingest.get("/batches/old")).status_code == 404
    assert [k async for k in store.list_keys(prefix)] == []
    assert await pool.fetchval("SELECT count(*) FROM files WHERE workspace_id = $1::uuid AND batch_id = 'old'",
                               ingest.workspace.id) == 0
    assert (await ingest.http.get(url.removeprefix(ingest.settings.public_url))).status_code == 404
    assert (await ingest.get("/batches/fresh/count")).json() == {"count": 1}
