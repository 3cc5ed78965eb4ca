"""A tenant's slow reference servers cost that tenant only: downloads have a total deadline, and archives
have indexer slots of their own."""

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
    """Answers every GET with a 1,000-byte body, one byte every half second: no single read ever waits long."""
    stop = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
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
