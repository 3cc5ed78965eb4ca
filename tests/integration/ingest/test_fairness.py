"""A tenant's slow reference servers cost that tenant only: downloads have a total deadline, a reference shard
has one, archives have indexer slots of their own, and a workspace holds at most its share of the reference
slots."""

import asyncio
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.fixtures.ingest import StagingClient
from tests.fixtures.media import jpeg, tar_of
from tests.fixtures.receiver import free_port
from tests.fixtures.resources import WorkspaceFactory
from tests.fixtures.staging import failures, shards_settled, upload_tar

TRICKLE_PORT = free_port()


@pytest.fixture
def trickling_server() -> Iterator[str]:
    """Answers every GET with a 1,000-byte body, one byte every half second: no single read ever waits long;
    but ``/fast...`` with a JPEG at once."""
    stop = threading.Event()
    image = jpeg(5)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path.startswith("/fast"):
                self.send_response(200)
                self.send_header("Content-Length", str(len(image)))
                self.end_headers()
                self.wfile.write(image)
                return
            self.send_response(200)
            self.send_header("Content-Length", "1000")
            self.end_headers()
            for _ in range(1000):
                if stop.wait(0.5):
                    return
                try:
                    self.wfile.write(b"x")
                    self.wfile.flush()
                except OSError:
                    return

        def log_message(self, *_: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", TRICKLE_PORT), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{TRICKLE_PORT}"
    finally:
        stop.set()
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("ingest", [{"allowed_fetch_hosts": [f"127.0.0.1:{TRICKLE_PORT}"], "fetch_timeout_s": 3.0,
                                     "fetch_concurrency": 2}], indirect=True)
async def test_slow_references_of_one_tenant_do_not_hold_another_tenants_archive(
        ingest: StagingClient, trickling_server: str, make_workspace: WorkspaceFactory) -> None:
    slow = {"imageReferences": [{"name": f"s{i}.jpg", "url": f"{trickling_server}/{i}.jpg"} for i in range(4)]}
    for batch in ("slow-a", "slow-b"):  # two shards: as many as there are indexer slots
        assert (await ingest.post(f"/batches/{batch}/bulk-upload/image-references", json=slow)).status_code == 200
    await asyncio.sleep(0.5)  # both are being fetched
    ws, key = await make_workspace()
    other = StagingClient(http=ingest.http, workspace=ws, key=key, settings=ingest.settings)
    started = time.monotonic()
    await upload_tar(other, "quick", tar_of({f"q{i}.jpg": jpeg(i) for i in range(10)}))
    (quick,) = await shards_settled(other, "quick", timeout=30)
    assert quick["shardObjectsCount"] == 10 and time.monotonic() - started < 2.5

    # and the trickling downloads end at their deadline, each a failed file with the reason
    (shard,) = await shards_settled(ingest, "slow-a", timeout=60)
    failed = await failures(ingest, "slow-a", shard["shardId"])
    assert {t for t, _ in failed.values()} == {"download-timeout"} and len(failed) == 4
    assert "longer than 3s" in next(iter(failed.values()))[1]


@pytest.mark.parametrize("ingest", [{"allowed_fetch_hosts": [f"127.0.0.1:{TRICKLE_PORT}"], "fetch_timeout_s": 60.0,
                                     "fetch_concurrency": 2, "reference_indexer_concurrency": 4,
                                     "reference_slots_per_workspace": 2, "reference_shard_deadline_s": 6.0}],
                         indirect=True)
async def test_one_tenants_trickling_references_leave_reference_slots_to_another_and_end_at_their_deadline(
        ingest: StagingClient, trickling_server: str, make_workspace: WorkspaceFactory) -> None:
    slow = {"imageReferences": [{"name": f"s{i}.jpg", "url": f"{trickling_server}/{i}.jpg"} for i in range(4)]}
    for batch in ("trickle-a", "trickle-b", "trickle-c", "trickle-d"):  # as many shards as there are slots
        assert (await ingest.post(f"/batches/{batch}/bulk-upload/image-references", json=slow)).status_code == 200
    await asyncio.sleep(0.5)  # two of them are being fetched, the others wait: the workspace's share is two
    ws, key = await make_workspace()
    other = StagingClient(http=ingest.http, workspace=ws, key=key, settings=ingest.settings)
    started = time.monotonic()
    one = {"imageReferences": [{"name": "one.jpg", "url": f"{trickling_server}/fast.jpg"}]}
    assert (await other.post("/batches/quick-ref/bulk-upload/image-references", json=one)).status_code == 200
    (quick,) = await shards_settled(other, "quick-ref", timeout=30)
    assert quick["shardObjectsCount"] == 1 and time.monotonic() - started < 3.0

    # each slow shard ends at its own deadline: the two downloads under way time out with it, the two that
    # never started are refused with the reason; then the next two shards of the workspace take the slots
    for batch in ("trickle-a", "trickle-b"):
        (shard,) = await shards_settled(ingest, batch, timeout=30)
        failed = await failures(ingest, batch, shard["shardId"])
        assert sorted(t for t, _ in failed.values()) == ["download-timeout"] * 2 + ["shard-deadline-exceeded"] * 2
    for batch in ("trickle-c", "trickle-d"):
        (shard,) = await shards_settled(ingest, batch, timeout=30)
        assert shard["statusMetadata"]["failedObjectsCount"] == 4
