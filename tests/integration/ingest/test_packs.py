"""Packs on both sides of INGEST_PACK_BYTES: fetched references and a compressed archive's images, with
packs small enough that a shard fills several, every file listed once and downloaded byte for byte."""

import gzip

import asyncpg
import pytest

from shared.storage import ObjectStore, batch_prefix
from tests.fixtures.ingest import StagingClient
from tests.fixtures.media import jpeg, tar_of
from tests.fixtures.staging import failures, shards_settled, upload_tar

IMAGES = {f"p{i}.jpg": jpeg(i) for i in range(9)}
PACK = 2 * max(len(d) for d in IMAGES.values())  # two or three images each: a pack is written once past it


async def _presigned(store: ObjectStore, key: str, data: bytes) -> str:
    await store.put_bytes(key, data)
    return await store.presign_get(key)


async def _packs(pool: asyncpg.Pool, ws: str, batch: str) -> dict[str, list[tuple[int, int]]]:
    """Each pack object of the batch with its files' (offset, size), in file order."""
    packs: dict[str, list[tuple[int, int]]] = {}
    for r in await pool.fetch("SELECT object_key, byte_offset, size_bytes FROM files WHERE workspace_id = $1::uuid"
                              " AND batch_id = $2 ORDER BY seq", ws, batch):
        packs.setdefault(r["object_key"], []).append((r["byte_offset"], r["size_bytes"]))
    return packs


async def _downloads(ingest: StagingClient, batch: str) -> dict[str, bytes]:
    got = {}
    for meta in (await ingest.get(f"/batches/{batch}/list")).json()["filesMetadata"]:
        resp = await ingest.http.get(meta["downloadURL"].removeprefix(ingest.settings.public_url))
        assert resp.status_code == 200 and resp.headers["content-type"] == "image/jpeg"
        assert meta["fileName"] not in got
        got[meta["fileName"]] = resp.content
    return got


@pytest.mark.parametrize("ingest", [{"pack_bytes": PACK}], indirect=True)
async def test_fetched_and_decompressed_images_fill_several_packs_and_read_back_exactly(
        ingest: StagingClient, store: ObjectStore, pool: asyncpg.Pool, unique: str) -> None:
    ws = ingest.workspace.id
    refs = [{"name": n, "url": await _presigned(store, f"tests/{unique}/{n}", d)} for n, d in IMAGES.items()]
    refs.insert(4, {"name": "text.jpg", "url": await _presigned(store, f"tests/{unique}/t", b"not an image")})
    assert (await ingest.post("/batches/packed-refs/bulk-upload/image-references",
                              json={"imageReferences": refs})).status_code == 200
    await upload_tar(ingest, "packed-tar", gzip.compress(tar_of(IMAGES | {"text.jpg": b"not an image"})))
    for batch in ("packed-refs", "packed-tar"):
        (shard,) = await shards_settled(ingest, batch)
        assert shard["shardObjectsCount"] == len(IMAGES)
        assert (await failures(ingest, batch, shard["shardId"]))["text.jpg"][0] == "unsupported-content"
        assert await _downloads(ingest, batch) == IMAGES
        packs = await _packs(pool, ws, batch)
        # past the limit a pack is written: 9 images of which any two reach it make 3 to 5 packs, and no pack
        # holds more than what reached the limit plus the image that crossed it
        assert 3 <= len(packs) <= 5, packs
        for files in packs.values():
            assert [o for o, _ in files] == [sum(s for _, s in files[:i]) for i in range(len(files))]
            assert sum(s for _, s in files[:-1]) < PACK
        stored = [k async for k in store.list_keys(batch_prefix(ws, batch))]
        assert sorted(stored) == sorted(packs)


async def test_a_shard_of_small_images_is_one_pack(ingest: StagingClient, store: ObjectStore, pool: asyncpg.Pool,
                                                   unique: str) -> None:
    """The other side of the limit: at the default 8 MiB, the shard's images share one object."""
    refs = [{"name": n, "url": await _presigned(store, f"tests/{unique}/{n}", d)} for n, d in IMAGES.items()]
    assert (await ingest.post("/batches/one-pack/bulk-upload/image-references",
                              json={"imageReferences": refs})).status_code == 200
    (shard,) = await shards_settled(ingest, "one-pack")
    assert shard["shardObjectsCount"] == len(IMAGES)
    packs = await _packs(pool, ingest.workspace.id, "one-pack")
    assert len(packs) == 1 and len(next(iter(packs.values()))) == len(IMAGES)
    assert await _downloads(ingest, "one-pack") == IMAGES
