import base64
import json
from datetime import datetime, timedelta

import asyncpg

from tests.fixtures.ingest import StagingClient
from tests.fixtures.media import jpeg, photo, png_header_bomb


async def _upload(ingest: StagingClient, batch: str, name: str, data: bytes, **params: object):
    return await ingest.post(f"/batches/{batch}/upload/image", files={name: (name, data)}, fileName=name, **params)


async def test_simple_upload_list_count_download_and_pagination(ingest: StagingClient, pool: asyncpg.Pool) -> None:
    images = {"bus.jpg": photo("bus.jpg"), "zidane.jpg": photo("zidane.jpg"), "noise.jpg": jpeg(1)}
    for name, data in images.items():
        resp = await _upload(ingest, "photos", name, data, displayName="My photos")
        assert resp.status_code == 200, resp.text

    details = (await ingest.get("/batches/photos")).json()["batch"]
    assert details["batchId"] == "photos" and details["displayName"] == "My photos"
    assert details["batchType"] == "simple-batch" and details["batchContentType"] == "images"
    created, expires = datetime.fromisoformat(details["createdDate"]), datetime.fromisoformat(details["expiryDate"])
    assert created.tzinfo is not None and abs(expires - created - timedelta(days=7)) < timedelta(seconds=5)
    assert (await ingest.get("/batches/photos/count")).json() == {"count": 3}

    first = (await ingest.get("/batches/photos/list", pageSize=2)).json()
    assert len(first["filesMetadata"]) == 2 and first["nextPageToken"]
    second = (await ingest.get("/batches/photos/list", pageSize=2, nextPageToken=first["nextPageToken"])).json()
    assert len(second["filesMetadata"]) == 1 and second["nextPageToken"] is None
    listed = first["filesMetadata"] + second["filesMetadata"]
    assert sorted(f["fileName"] for f in listed) == sorted(images)
    for meta in listed:
        assert meta["contentType"] == "image/jpeg"
        url = meta["downloadURL"]
        assert "api_key" not in url
        got = await ingest.http.get(url.removeprefix(ingest.settings.public_url))  # no API key needed
        assert got.status_code == 200 and got.content == images[meta["fileName"]]

    # staged files are rows of the batch store, not events: the outbox holds nothing per file
    assert await pool.fetchval("SELECT count(*) FROM outbox WHERE payload->>'workspace_id' = $1"
                               " AND payload->>'batch_id' = 'photos'", ingest.workspace.id) == 0

    listing = (await ingest.get("/batches")).json()
    assert [b["batchId"] for b in listing["batches"]] == ["photos"] and listing["nextPageToken"] is None


async def test_retries_are_idempotent_and_conflicting_names_refused(ingest: StagingClient) -> None:
    assert (await _upload(ingest, "b1", "a.jpg", jpeg(1))).json()["duplicated"] is False
    retry = await _upload(ingest, "b1", "a.jpg", jpeg(1))
    assert retry.status_code == 200 and retry.json()["duplicated"] is True
    clash = await _upload(ingest, "b1", "a.jpg", jpeg(2))
    assert clash.status_code == 409 and "already holds a file named 'a.jpg'" in clash.json()["message"]
    assert (await ingest.get("/batches/b1/count")).json() == {"count": 1}


async def test_bad_uploads_get_clear_errors_and_nothing_accepted_is_lost(ingest: StagingClient) -> None:
    assert (await _upload(ingest, "b2", "ok.jpg", jpeg(3))).status_code == 200
    cases = [
        ("text.jpg", b"hello, not an image", 400, "unsupported-content"),
        ("empty.jpg", b"", 400, "empty-file"),
        ("broken.jpg", jpeg(4)[:200], 400, "corrupted-file"),
        ("big.jpg", b"\xff\xd8\xff" + bytes(21 * 1024 * 1024), 413, "file-size-limit-exceeded"),
        ("bomb.png", png_header_bomb(), 400, "image-too-large"),
        ("../escape.jpg", jpeg(5), 400, "unsafe-path"),
    ]
    for name, data, status, fragment in cases:
        resp = await _upload(ingest, "b2", name, data)
        assert resp.status_code == status, (name, resp.text)
        assert fragment in resp.json()["message"], (name, resp.text)
    bad_id = await _upload(ingest, "Bad_ID", "x.jpg", jpeg(6))
    assert bad_id.status_code == 400 and "lower-case" in bad_id.json()["message"]
    too_long = await _upload(ingest, "x" * 65, "x.jpg", jpeg(6))
    assert too_long.status_code == 400 and "longer than 64" in too_long.json()["message"]
    assert (await ingest.get("/batches/b2/count")).json() == {"count": 1}
    missing = await ingest.get("/batches/nope")
    assert missing.status_code == 404 and missing.json()["error"] == "BatchNotFound"
    forged = await ingest.get("/batches/b2/list", nextPageToken="%%%")
    assert forged.status_code == 400


async def test_keys_of_other_workspaces_and_forged_links_are_refused(ingest: StagingClient) -> None:
    await _upload(ingest, "b3", "a.jpg", jpeg(7))
    other = await ingest.http.get("/data-staging/v1/external/someone-else/batches/b3", params={"api_key": ingest.key})
    assert other.status_code == 403
    listed = (await ingest.get("/batches/b3/list")).json()["filesMetadata"][0]["downloadURL"]
    path = listed.removeprefix(ingest.settings.public_url)
    tampered = path[:-3] + ("aaa" if not path.endswith("aaa") else "bbb")
    assert (await ingest.http.get(tampered)).status_code == 403
    body, _ = path.removeprefix("/files/download/").split(".", 1)
    claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    assert claims["kind"] == "download"  # and a download token cannot be used as an upload token:
    assert (await ingest.http.put(path.replace("/download/", "/upload/"), content=b"x")).status_code == 403


async def test_names_beyond_latin_1_download_and_ids_with_a_newline_are_refused(ingest: StagingClient) -> None:
    assert (await _upload(ingest, "names", "日本.jpg", jpeg(7))).status_code == 200
    (meta,) = (await ingest.get("/batches/names/list")).json()["filesMetadata"]
    assert meta["fileName"] == "日本.jpg"
    resp = await ingest.http.get(meta["downloadURL"].removeprefix(ingest.settings.public_url))
    assert resp.status_code == 200 and resp.content == jpeg(7)
    disposition = "attachment; filename=\"__.jpg\"; filename*=UTF-8''%E6%97%A5%E6%9C%AC.jpg"  # RFC 5987
    assert resp.headers["content-disposition"] == disposition
    refused = await _upload(ingest, "names%0A", "a.jpg", jpeg(1))
    assert refused.status_code == 400 and refused.json()["error"] == "InvalidInput"
