"""The worker's reads of images kept inside uploaded archives, against the real S3."""

import asyncio
import io
import random
import tarfile
from typing import Any

import pytest

from shared.storage import ObjectMissing, ObjectStore
from tests.fixtures.media import jpeg, tar_of
from worker_svc.spans import SpanTooShort, StagedReader


def rows_of(key: str, tar: bytes) -> list[dict[str, Any]]:
    """File rows as the indexer writes them for a plain tar: the archive's key and each member's offset."""
    with tarfile.open(fileobj=io.BytesIO(tar)) as archive:
        return [{"file_name": m.name, "object_key": key, "byte_offset": m.offset_data, "size_bytes": m.size}
                for m in archive.getmembers()]


async def test_a_tasks_images_come_from_a_few_ranged_requests_in_any_order(store: ObjectStore, unique: str) -> None:
    images = {f"{'long-name-' * 12}{i}.jpg" if i % 7 == 0 else f"i{i}.jpg": jpeg(i) for i in range(60)}
    tar = tar_of(images)
    key = f"uploads/{unique}/a.tar"
    await store.put_small(key, tar)
    loose = f"tests/{unique}/loose.jpg"
    await store.put_small(loose, jpeg(99))
    rows = rows_of(key, tar)
    rows.insert(30, {"file_name": "loose.jpg", "object_key": loose, "byte_offset": None, "size_bytes": 0})
    for max_span, requests in ((8 << 20, 2), (40_000, None)):
        reader = StagedReader(store, rows, max_span=max_span)
        if requests:  # the archive's 60 images in one span, the loose file on its own
            assert reader.requests == requests
        else:  # spans of at most 40 kB: two or so of these 15 kB images each
            assert 10 < reader.requests < len(rows)
        order = list(range(len(rows)))
        random.Random(max_span).shuffle(order)
        got = await asyncio.gather(*(reader.read(i) for i in order))
        by_name = {rows[i]["file_name"]: data for i, data in zip(order, got, strict=True)}
        assert by_name == images | {"loose.jpg": jpeg(99)}


async def test_a_missing_or_truncated_archive_fails_its_files(store: ObjectStore, unique: str) -> None:
    tar = tar_of({"a.jpg": jpeg(1), "b.jpg": jpeg(2)})
    rows = rows_of(f"uploads/{unique}/gone.tar", tar)
    reader = StagedReader(store, rows)
    for i in range(2):
        with pytest.raises(ObjectMissing):
            await reader.read(i)
    key = f"uploads/{unique}/cut.tar"
    await store.put_small(key, tar[:rows[1]["byte_offset"] + 10])  # b.jpg cut short
    reader = StagedReader(store, rows_of(key, tar))
    assert await reader.read(0) == jpeg(1)
    with pytest.raises(SpanTooShort):
        await reader.read(1)
    await store.put_small(key, tar[:100])  # the object ends before the first image starts
    with pytest.raises(SpanTooShort):
        await StagedReader(store, rows_of(key, tar)).read(0)
