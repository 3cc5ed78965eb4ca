import os
from collections.abc import AsyncIterator

import httpx
import pytest

from shared.errors import TransientError
from shared.storage import MULTIPART_CHUNK, ObjectMissing, ObjectStore


async def test_put_get_and_presigned_urls(store: ObjectStore, unique: str) -> None:
    key = f"tests/{unique}/a.bin"
    await store.put_bytes(key, b"hello", content_type="text/plain")
    assert await store.get_bytes(key) == b"hello"
    assert await store.exists(key) and not await store.exists(key + ".missing")
    url = await store.presign_get(key, filename="a.bin")
    async with httpx.AsyncClient() as client:
        got = await client.get(url)
        assert got.status_code == 200 and got.content == b"hello"
        tampered = url.replace("X-Amz-Signature=", "X-Amz-Signature=0")
        assert (await client.get(tampered)).status_code == 403
        put_url = await store.presign_put(f"tests/{unique}/b.bin")
        assert (await client.put(put_url, content=b"uploaded")).status_code == 200
    assert await store.get_bytes(f"tests/{unique}/b.bin") == b"uploaded"


async def test_small_objects_through_presigned_urls_and_a_missing_one(store: ObjectStore, unique: str) -> None:
    data = os.urandom(3000)
    odd = f"tests/{unique}/dir/ä b+c%20(1)~.jpg"  # signed as S3 reads it: nothing re-quoted on the way
    for key in (f"tests/{unique}/small.jpg", odd):
        await store.put_small(key, data, content_type="image/jpeg")
        assert await store.fetch(key) == data
        assert await store.get_bytes(key) == data  # the same object as botocore names it
        head = await store.client.head_object(Bucket=store.settings.staging_bucket, Key=key)
        assert head["ContentType"] == "image/jpeg"
    with pytest.raises(ObjectMissing):
        await store.fetch(f"tests/{unique}/never-written.jpg")
    with pytest.raises(RuntimeError, match="NoSuchBucket"):  # a 404 too, but a misconfiguration, not a lost file
        await store.fetch("x", bucket="no-such-bucket-here")


async def test_byte_ranges_of_an_object(store: ObjectStore, unique: str) -> None:
    data = os.urandom(10_000)
    key = f"tests/{unique}/archive.tar"
    await store.put_small(key, data)
    assert await store.fetch(key, byte_range=(0, 1)) == data[:1]
    assert await store.fetch(key, byte_range=(1234, 5678)) == data[1234:5678]
    assert await store.fetch(key, byte_range=(9000, 10_000)) == data[9000:]
    assert b"".join([c async for c in store.iter_object(key, byte_range=(512, 9000), chunk=1000)]) == data[512:9000]
    with pytest.raises(ObjectMissing):
        await store.fetch(f"tests/{unique}/gone.tar", byte_range=(0, 10))


async def test_fetch_from_an_unreachable_s3_is_transient(store: ObjectStore) -> None:
    away = ObjectStore(store.settings.model_copy(update={"endpoint_url": "http://127.0.0.1:9"}))
    await away.start()
    try:
        with pytest.raises(TransientError, match="failed 2 times"):  # consumers wait this out, never dead-letter
            await away.fetch("any.jpg", attempts=2)
    finally:
        await away.close()


async def test_streaming_multipart_upload_of_unknown_length(store: ObjectStore, unique: str) -> None:
    payload = os.urandom(2 * MULTIPART_CHUNK + 12345)

    async def chunks() -> AsyncIterator[bytes]:
        for i in range(0, len(payload), 1_000_000):
            yield payload[i:i + 1_000_000]

    key = f"tests/{unique}/big.bin"
    assert await store.put_stream(key, chunks()) == len(payload)
    assert await store.get_bytes(key) == payload
    head = await store.client.head_object(Bucket=store.settings.staging_bucket, Key=key)
    assert head["ETag"].strip('"').endswith("-3")  # three parts
    streamed = b"".join([c async for c in store.iter_object(key)])
    assert streamed == payload


async def test_delete_prefix_and_listing(store: ObjectStore, unique: str) -> None:
    for i in range(5):
        await store.put_bytes(f"tests/{unique}/d/{i}", b"x")
    assert len([k async for k in store.list_keys(f"tests/{unique}/d/")]) == 5
    assert await store.delete_prefix(f"tests/{unique}/d/") == 5
    assert [k async for k in store.list_keys(f"tests/{unique}/d/")] == []


async def test_staged_data_expires_after_seven_days_by_lifecycle_rule(store: ObjectStore) -> None:
    config = await store.client.get_bucket_lifecycle_configuration(Bucket=store.settings.staging_bucket)
    rule = next(r for r in config["Rules"] if r["ID"] == "staging-expiry")
    assert rule["Status"] == "Enabled" and rule["Expiration"]["Days"] == 7
