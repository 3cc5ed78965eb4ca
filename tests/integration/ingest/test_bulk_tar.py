import asyncio
import gzip
import io
import json
import os
import tarfile
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from shared.storage import ObjectStore, batch_prefix
from tests.fixtures.ingest import StagingClient
from tests.fixtures.media import jpeg, mp4, photo, png_header_bomb, tar_of
from tests.fixtures.staging import failures, shards_settled, upload_tar


async def test_tar_is_indexed_in_the_background_and_bad_members_recorded(
        ingest: StagingClient, pool: asyncpg.Pool) -> None:
    good = {f"img-{i}.jpg": jpeg(i) for i in range(5)} | {"bus.jpg": photo("bus.jpg")}
    bad = {"../evil.jpg": jpeg(90), "/abs.jpg": jpeg(91), "empty.jpg": b"", "note.txt": b"not an image",
           "truncated.jpg": jpeg(92)[:100], "bomb.png": png_header_bomb(),
           "notification_config.json": json.dumps({"ingestId": "ing-1",
                                                   "notificationsURL": "https://hooks.example.com/x"}).encode()}
    tar = tar_of(good | bad, symlinks={"link.jpg": "/etc/passwd"},
                 hardlinks={"hard.jpg": "img-0.jpg", "hard-out.jpg": "/etc/passwd", "hard-up.jpg": "../img-1.jpg"},
                 devices=["dev.jpg"])
    await upload_tar(ingest, "bulk", tar)
    (shard,) = await shards_settled(ingest, "bulk")
    assert shard["statusName"] == "indexed-with-failures" and shard["statusType"] == "warning"
    # the tar's notification_config.json names its ingest
    assert shard["shardObjectsCount"] == 7 and shard["statusMetadata"]["ingestId"] == "ing-1"

    found = {f["fileName"]: f for f in (await ingest.get("/batches/bulk/list")).json()["filesMetadata"]}
    assert set(found) == set(good) | {"hard.jpg"} and all(f["shardId"] == shard["shardId"] for f in found.values())
    details = (await ingest.get("/batches/bulk")).json()["batch"]
    assert details["batchType"] == "sharded-batch"

    failed = await failures(ingest, "bulk", shard["shardId"])
    assert failed["../evil.jpg"][0] == "unsafe-path" and failed["/abs.jpg"][0] == "unsafe-path"
    assert failed["link.jpg"][0] == "unsafe-path" and "symbolic links" in failed["link.jpg"][1]
    for outside in ("hard-out.jpg", "hard-up.jpg"):  # a hard link stages only a file the archive holds before it
        assert failed[outside][0] == "unsafe-path" and "not a regular file earlier" in failed[outside][1]
    assert "hard.jpg" not in failed
    assert failed["dev.jpg"][0] == "unsupported-content"
    assert failed["empty.jpg"][0] == "empty-file" and failed["note.txt"][0] == "unsupported-content"
    assert failed["truncated.jpg"][0] == "corrupted-file" and failed["bomb.png"][0] == "image-too-large"
    assert "notification_config.json" not in failed
    # the batch says how many files it holds and how many were refused, in its details and in the listing
    assert (details["filesCount"], details["refusedCount"]) == (7, len(failed))
    listed = {b["batchId"]: b for b in (await ingest.get("/batches")).json()["batches"]}
    assert (listed["bulk"]["filesCount"], listed["bulk"]["refusedCount"]) == (7, len(failed))

    # the tar's notification_config.json asked for webhooks: both categories, through the outbox
    notes = await pool.fetch("SELECT payload FROM outbox WHERE event_type = 'notification.requested@v1'"
                             " AND payload->>'subject_id' = 'bulk' AND payload->>'workspace_id' = $1",
                             ingest.workspace.id)
    bodies = {n["payload"]["category"]: n["payload"]["payload"] for n in notes}
    assert bodies["ingest-status"]["notification"]["success"] is True
    assert bodies["ingest-status"]["ingest_id"] == "ing-1"
    files_status = bodies["files-status"]
    assert files_status["type"] == "roboflow-data-staging-notification-v1"
    assert files_status["notification"]["type"] == "ingest-files-status-notification-v1"
    assert sorted(files_status["notification"]["ingested_files"]) == sorted([*good, "hard.jpg"])
    assert {f["file_name"] for f in files_status["notification"]["failed_files"]} == set(failed)
    assert all(n["payload"]["url"] == "https://hooks.example.com/x" for n in notes)


async def test_upload_links_are_single_use_and_batches_do_not_mix(ingest: StagingClient) -> None:
    path = await upload_tar(ingest, "mix", tar_of({"a.jpg": jpeg(1)}))
    again = await ingest.http.put(path, content=tar_of({"b.jpg": jpeg(2)}))
    assert again.status_code == 409
    await shards_settled(ingest, "mix")
    simple = await ingest.post("/batches/mix/upload/image", files={"c.jpg": ("c.jpg", jpeg(3))}, fileName="c.jpg")
    assert simple.status_code == 409 and "cannot take simple images uploads" in simple.json()["message"]
    video = await ingest.post("/batches/mix/upload/video", fileName="v.mp4")
    assert video.status_code == 409
    # a name already in the batch is refused in a later tar, the rest is ingested
    await upload_tar(ingest, "mix", tar_of({"a.jpg": jpeg(9), "d.jpg": jpeg(4)}))
    shards = await shards_settled(ingest, "mix")
    second = next(s for s in shards if s["shardObjectsCount"] == 1 and s["statusType"] == "warning")
    assert (await failures(ingest, "mix", second["shardId"]))["a.jpg"][0] == "duplicated-file-name"
    assert (await ingest.get("/batches/mix/count")).json() == {"count": 2}


async def _downloads(ingest: StagingClient, batch: str) -> dict[str, bytes]:
    listed = (await ingest.get(f"/batches/{batch}/list")).json()["filesMetadata"]
    got = {}
    for meta in listed:
        resp = await ingest.http.get(meta["downloadURL"].removeprefix(ingest.settings.public_url))
        assert resp.status_code == 200 and resp.headers["content-type"] == meta["contentType"]
        assert int(resp.headers["content-length"]) == len(resp.content)
        got[meta["fileName"]] = resp.content
    return got


async def test_a_plain_tars_images_are_read_in_place_and_a_compressed_tars_are_packed(
        ingest: StagingClient, pool: asyncpg.Pool, store: ObjectStore) -> None:
    images = {f"{'deep/' * 30}long-name.jpg": jpeg(1), "bus.jpg": photo("bus.jpg")} | {
        f"i{i}.jpg": jpeg(i) for i in range(2, 8)}
    tar = tar_of(images | {"note.txt": b"not an image"})
    await upload_tar(ingest, "inplace", tar)
    await upload_tar(ingest, "copied", gzip.compress(tar))
    for batch in ("inplace", "copied"):
        (shard,) = await shards_settled(ingest, batch)
        assert shard["shardObjectsCount"] == len(images)
        # folders are joined into flat names (clients write every file of a batch into one folder)
        assert await _downloads(ingest, batch) == {n.replace("/", "__"): data for n, data in images.items()}
    ws = ingest.workspace.id
    rows = await pool.fetch("SELECT batch_id, object_key, byte_offset, size_bytes FROM files"
                            " WHERE workspace_id = $1 ORDER BY seq", ws)
    in_place = [r for r in rows if r["batch_id"] == "inplace"]
    # one object, the uploaded archive, holds them all, at increasing offsets (archive order, so tasks read
    # neighbours together); nothing was copied under the batch
    assert len({r["object_key"] for r in in_place}) == 1 and in_place[0]["object_key"].startswith(f"uploads/{ws}/")
    offsets = [r["byte_offset"] for r in in_place]
    assert offsets == sorted(offsets) and all(o % 512 == 0 for o in offsets)
    assert [k async for k in store.list_keys(batch_prefix(ws, "inplace"))] == []
    # a compressed archive's images are copied out into one pack (they are far below INGEST_PACK_BYTES),
    # back to back in archive order
    copied = [r for r in rows if r["batch_id"] == "copied"]
    assert len({r["object_key"] for r in copied}) == 1
    assert [k async for k in store.list_keys(batch_prefix(ws, "copied"))] == [copied[0]["object_key"]]
    assert [r["byte_offset"] for r in copied] == [sum(r["size_bytes"] for r in copied[:i]) for i in range(len(copied))]


async def test_a_link_used_twice_at_once_keeps_the_archive_that_won(ingest: StagingClient, store: ObjectStore) -> None:
    resp = await ingest.post("/batches/race/bulk-upload/image-files")
    path = resp.json()["signedURLDetails"]["uploadURL"].removeprefix(ingest.settings.public_url)
    slow_tar = tar_of({"a.jpg": jpeg(1)})
    release = asyncio.Event()

    async def slow() -> AsyncIterator[bytes]:
        yield slow_tar[:1024]
        await release.wait()
        yield slow_tar[1024:]

    first = asyncio.create_task(ingest.http.put(path, content=slow()))
    await asyncio.sleep(0.5)  # the first upload is streaming when the second one starts
    second = await ingest.http.put(path, content=tar_of({"b.jpg": jpeg(2)}))
    assert second.status_code == 200, second.text
    release.set()
    lost = await first
    assert lost.status_code == 409 and "already used" in lost.json()["message"]
    await shards_settled(ingest, "race")
    # the files point into the winner's archive, which the loser neither overwrote nor left behind
    assert await _downloads(ingest, "race") == {"b.jpg": jpeg(2)}
    assert len([k async for k in store.list_keys(f"uploads/{ingest.workspace.id}/race/")]) == 1


async def test_unreadable_archive_fails_the_shard_with_a_reason(ingest: StagingClient) -> None:
    await upload_tar(ingest, "junk", b"this is not a tar archive at all" * 100)
    (shard,) = await shards_settled(ingest, "junk")
    assert shard["statusType"] == "error" and "corrupted-archive" in shard["statusMetadata"]["error"]


@pytest.mark.parametrize("ingest", [{"max_tar_images": 3}], indirect=True)
async def test_archives_beyond_the_file_limit_keep_the_first_files(ingest: StagingClient) -> None:
    await upload_tar(ingest, "many", tar_of({f"{i}.jpg": jpeg(i) for i in range(5)}))
    (shard,) = await shards_settled(ingest, "many")
    assert shard["shardObjectsCount"] == 3
    failed = await failures(ingest, "many", shard["shardId"])
    assert {t for t, _ in failed.values()} == {"too-many-files"} and len(failed) == 2


async def test_video_upload_through_a_signed_url(ingest: StagingClient) -> None:
    resp = await ingest.post("/batches/clips/upload/video", fileName="clip.mp4", displayName="Clips")
    assert resp.status_code == 200, resp.text
    details = resp.json()["signedURLDetails"]
    assert set(details) >= {"uploadURL", "extensionHeaders"}
    video = mp4()
    put = await ingest.http.put(details["uploadURL"].removeprefix(ingest.settings.public_url), content=video,
                                headers=details["extensionHeaders"])
    assert put.status_code == 200, put.text
    batch = (await ingest.get("/batches/clips")).json()["batch"]
    assert batch["batchContentType"] == "videos"
    (meta,) = (await ingest.get("/batches/clips/list")).json()["filesMetadata"]
    assert meta["fileName"] == "clip.mp4" and meta["contentType"] == "video/mp4"
    got = await ingest.http.get(meta["downloadURL"].removeprefix(ingest.settings.public_url))
    assert got.content == video
    assert (await ingest.post("/batches/clips/upload/video", fileName="clip.mp4")).status_code == 409

    other = (await ingest.post("/batches/clips/upload/video", fileName="fake.mp4")).json()["signedURLDetails"]
    refused = await ingest.http.put(other["uploadURL"].removeprefix(ingest.settings.public_url), content=jpeg(1))
    assert refused.status_code == 400 and "not a video" in refused.json()["message"]
    assert (await ingest.get("/batches/clips/count")).json() == {"count": 1}


async def test_a_name_too_long_for_a_file_system_is_a_failed_file_not_a_stuck_shard(
        ingest: StagingClient) -> None:
    long_name = "n" * 996 + ".jpg"  # 1,000 bytes: past S3's key limit once prefixed, and any file system's
    await upload_tar(ingest, "long", gzip.compress(tar_of({long_name: jpeg(1), "ok.jpg": jpeg(2)})))
    (shard,) = await shards_settled(ingest, "long")
    assert shard["statusName"] == "indexed-with-failures" and shard["shardObjectsCount"] == 1
    failed = await failures(ingest, "long", shard["shardId"])
    assert failed[long_name][0] == "invalid-file-name" and "255 bytes" in failed[long_name][1]
    single = await ingest.post("/batches/long-single/upload/image", files={"f": (long_name, jpeg(3))},
                               fileName=long_name)
    assert single.status_code == 400 and "255 bytes" in single.json()["message"]


async def test_hard_linked_files_of_a_folder_are_staged_with_their_own_bytes(
        ingest: StagingClient, tmp_path: Path) -> None:
    """A folder where files share inodes (``cp -al``, rsync ``--link-dest``, DVC) packs as one member per inode
    and a link for every further name, by tar, Python's tarfile and inference-cli alike: every name is staged,
    from a plain archive (read in place) and a compressed one (copied), and a link before its file is refused."""
    folder = tmp_path / "linked"
    folder.mkdir()
    originals = {f"o{i}.jpg": jpeg(i) for i in range(4)}
    for name, data in originals.items():
        (folder / name).write_bytes(data)
    expected = dict(originals)
    for i in range(4):
        for copy in range(2):  # three names per inode, as in the folder of 480 names over 160 inodes
            os.link(folder / f"o{i}.jpg", folder / f"o{i}-{copy}.jpg")
            expected[f"o{i}-{copy}.jpg"] = originals[f"o{i}.jpg"]
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for path in sorted(folder.iterdir()):
            tar.add(path, arcname=path.name)
    packed = buf.getvalue()
    with tarfile.open(fileobj=io.BytesIO(packed)) as tar:
        assert sum(m.islnk() for m in tar.getmembers()) == 8  # what every client sends
    await upload_tar(ingest, "linked", packed)
    await upload_tar(ingest, "linked-gz", gzip.compress(packed))
    for batch in ("linked", "linked-gz"):
        (shard,) = await shards_settled(ingest, batch)
        assert shard["shardObjectsCount"] == 12 and shard["statusType"] == "success", shard
        assert await _downloads(ingest, batch) == expected

    early = io.BytesIO()  # a link before the file it names: tar never writes one, and it is refused
    with tarfile.open(fileobj=early, mode="w") as tar:
        link = tarfile.TarInfo("early.jpg")
        link.type, link.linkname = tarfile.LNKTYPE, "late.jpg"
        tar.addfile(link)
        late = tarfile.TarInfo("late.jpg")
        late.size = len(originals["o0.jpg"])
        tar.addfile(late, io.BytesIO(originals["o0.jpg"]))
    await upload_tar(ingest, "early", early.getvalue())
    (shard,) = await shards_settled(ingest, "early")
    assert (await failures(ingest, "early", shard["shardId"]))["early.jpg"][0] == "unsafe-path"
    assert set(await _downloads(ingest, "early")) == {"late.jpg"}


def _empty_members(count: int) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for i in range(count):
            tar.addfile(tarfile.TarInfo(f"e{i:06d}.jpg"))
    return buf.getvalue()


async def test_an_archive_of_100000_empty_members_writes_a_bounded_number_of_records(
        ingest: StagingClient, pool: asyncpg.Pool) -> None:
    archive = _empty_members(100_000)
    assert len(archive) < 600_000
    await upload_tar(ingest, "empties", archive)
    (shard,) = await shards_settled(ingest, "empties", timeout=120)
    assert shard["statusMetadata"]["failedObjectsCount"] == 100_000 and shard["shardObjectsCount"] == 0
    rows = await pool.fetchval("SELECT count(*) FROM failed_files WHERE workspace_id = $1::uuid AND batch_id = $2",
                               ingest.workspace.id, "empties")
    assert rows == 1000
    listed = await failures(ingest, "empties", shard["shardId"])
    assert listed["(+99001 more)"] == ("more-failures-not-listed",
                                       "99001 more files of this shard were refused; the first 999 are listed")


@pytest.mark.parametrize("ingest", [{"max_failed_records": 5}], indirect=True)
async def test_failed_records_are_all_kept_up_to_the_cap_and_summarised_past_it(ingest: StagingClient) -> None:
    for batch, count in (("at-cap", 5), ("past-cap", 6)):
        await upload_tar(ingest, batch, tar_of({f"bad{i}.jpg": b"" for i in range(count)} | {"ok.jpg": jpeg(1)}))
        (shard,) = await shards_settled(ingest, batch)
        assert shard["statusMetadata"]["failedObjectsCount"] == count and shard["shardObjectsCount"] == 1
        listed = await failures(ingest, batch, shard["shardId"])
        if count == 5:
            assert sorted(listed) == [f"bad{i}.jpg" for i in range(5)]
        else:
            assert len(listed) == 5 and listed["(+2 more)"][0] == "more-failures-not-listed"
