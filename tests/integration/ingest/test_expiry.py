import asyncio

import asyncpg
import pytest

from ingest_svc.sweeper import sweep_once
from shared.storage import ObjectStore, batch_prefix
from tests.fixtures.ingest import StagingClient
from tests.fixtures.media import jpeg, tar_of
from tests.fixtures.staging import shards_settled, upload_tar


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


@pytest.mark.parametrize("rows_per_transaction", [2, 5, 6])
async def test_a_batch_is_swept_in_bounded_transactions_whatever_the_chunk(
        ingest: StagingClient, pool: asyncpg.Pool, store: ObjectStore, rows_per_transaction: int) -> None:
    """5 files, 2 failed files and 5 metadata rows deleted by chunks smaller than, equal to and larger than
    a table's rows: nothing of the batch stays, a batch beside it keeps everything, and a second sweep of
    the same batch at once does not fail or sweep it twice."""
    ws = ingest.workspace.id
    images = {f"{i}.jpg": jpeg(i) for i in range(5)} | {"bad.jpg": b"not a jpeg", "worse.jpg": b"no"}
    for batch in ("big", "beside"):
        await upload_tar(ingest, batch, tar_of(images))
        await shards_settled(ingest, batch)
        lines = "".join(f'{{"fileName": "{i}.jpg", "metadata": {{"n": {i}}}}}\n' for i in range(5)).encode()
        stored = await ingest.http.post(ingest.path(f"/batches/{batch}/upload/metadata"), content=lines,
                                        params={"api_key": ingest.key, "partName": "meta"})
        assert stored.status_code == 200, stored.text
    counts = "SELECT (SELECT count(*) FROM {0} WHERE workspace_id = $1::uuid AND batch_id = $2)"
    tables = ("files", "file_metadata", "failed_files")

    async def rows(batch: str) -> dict[str, int]:
        return {t: await pool.fetchval(counts.format(t), ws, batch) for t in tables}

    assert await rows("big") == await rows("beside") == {"files": 5, "file_metadata": 5, "failed_files": 2}
    await pool.execute("UPDATE batches SET expires_at = now() WHERE workspace_id = $1::uuid AND batch_id = 'big'", ws)
    both = await asyncio.gather(*(sweep_once(pool, store, rows_per_transaction=rows_per_transaction)
                                  for _ in range(2)))
    assert sorted(both) == [0, 1]
    assert await rows("big") == dict.fromkeys(tables, 0)
    assert (await ingest.get("/batches/big")).status_code == 404
    assert await rows("beside") == {"files": 5, "file_metadata": 5, "failed_files": 2}
