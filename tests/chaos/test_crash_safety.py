"""Crash safety: one image job of CHAOS_FILES files (2,000 by default) while, in turn, the ingest service is
``kill -9``-ed mid-indexing, a worker mid-task, the scheduler, the Kafka broker (Tansu, log on S3), PostgreSQL,
the notifier, and the export service mid-export. The job must succeed, the export must hold every file
exactly once with its own content, and the job webhook must arrive.

A second test kills PostgreSQL twice under a stream of single uploads: every upload answered 2xx must be staged.

Each source file is a flat colour unique to it; the workflow passes the image through as a persisted image
output, so every exported record carries a copy whose colour proves which source it came from.
"""

from __future__ import annotations

import functools
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import cv2
import httpx
import numpy as np
import pytest

from tests.fixtures.chaos import Chaos
from tests.fixtures.coloured import assert_each_once_with_its_content, coloured_tars, exported

FILES = int(os.environ.get("CHAOS_FILES", "2000"))
COPY_WORKFLOW = {"version": "1.0", "inputs": [{"type": "WorkflowImage", "name": "image"}], "steps": [],
                 "outputs": [{"type": "JsonField", "name": "copy", "selector": "$inputs.image"}]}


def wait_for(what: str, check: Callable[[], Any], timeout: float = 180, every: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            result = check()
        except httpx.HTTPError:
            result = None  # a service (or the gateway's upstream) is down for a moment: that is the point
        if result:
            return result
        time.sleep(every)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.timeout(1200)
def test_a_job_survives_every_component_crashing_and_loses_nothing(chaos: Chaos) -> None:
    api = httpx.Client(base_url=chaos.base_url, params={"api_key": chaos.api_key}, timeout=30)
    ws = "chaos"
    staging, jobs = f"/data-staging/v1/external/{ws}/batches/src", f"/batch-processing/v1/external/{ws}/jobs"

    def count() -> int:
        resp = api.get(f"{staging}/count")
        return resp.json()["count"] if resp.status_code == 200 else 0

    for archive_bytes in coloured_tars(FILES):
        signed = api.post(f"{staging}/bulk-upload/image-files").json()["signedURLDetails"]
        sent = httpx.put(signed["uploadURL"], content=archive_bytes, headers=signed["extensionHeaders"])
        assert sent.status_code < 300
    # while it indexes the archives just accepted (every time: a crash that waited to see indexing start could
    # come after it ended): the shard's lease expires and it is indexed again, idempotently
    chaos.crash("ingest")
    wait_for("every file indexed", lambda: count() == FILES, timeout=300, every=0.5)

    assert api.put(f"/{ws}/workflows/copy", json={"specification": COPY_WORKFLOW}).status_code == 200
    body = {"type": "simple-image-processing-v1", "jobInput": {"type": "staging-batch-input-v1", "batchId": "src"},
            "computeConfiguration": {"type": "compute-configuration-v2", "machineType": "cpu"},
            "notificationsURL": chaos.hook_url,
            "processingSpecification": {"type": "workflows-processing-specification-v1", "workspace": ws,
                                        "workflowId": "copy", "persistImagesOutputs": True}}
    assert api.post(f"{jobs}/crash", json=body).status_code == 200

    def job() -> dict[str, Any]:
        return api.get(f"{jobs}/crash").json()["job"]

    def task_running() -> bool:
        tasks = api.get(f"{jobs}/crash/stages/processing/tasks").json()["tasks"]
        return any(t["notification"]["state"] == "running" for t in tasks)

    wait_for("a task running", task_running, every=0.01)
    chaos.crash("worker")  # mid-task: its results were not acknowledged; the task is redelivered
    wait_for("progress past 25%", lambda: job()["progress"] > 0.25)
    chaos.crash("scheduler")
    chaos.restart_component("tansu")  # the broker: its log lives in SeaweedFS and survives
    wait_for("progress past 50%", lambda: job()["progress"] > 0.5, timeout=300)
    chaos.restart_component("postgres")  # every service loses its connections at once
    chaos.crash("notifier")
    wait_for("the export stage", lambda: job()["state"] in ("exporting", "succeeded"), timeout=300, every=0.02)
    if job()["state"] == "exporting":
        chaos.crash("export")
    final = wait_for("the job to finish", lambda: (j := job())["isTerminal"] and j, timeout=300, every=0.5)
    assert final["state"] == "succeeded", final

    listing = api.get(f"{staging.replace('/src', '/crash-export')}/list", params={"partName": "archives"}).json()
    records, copies = exported(listing)
    logs = api.get(f"{jobs}/crash/logs", params={"severity": "warning"}).json()["logs"]
    assert_each_once_with_its_content(records, copies, FILES, f"failures: {[entry['payload'] for entry in logs]}")

    hook = wait_for("the job webhook", lambda: [h for h in chaos.hooks.received if h.get("job_id") == "crash"],
                    timeout=120, every=0.5)
    assert hook[0]["job_state"] == "success"
    assert sorted(set(chaos.kills)) == sorted({"ingest", "worker", "scheduler", "tansu", "postgres", "notifier"}
                                              | ({"export"} if "export" in chaos.kills else set()))


@pytest.mark.timeout(600)
def test_every_acknowledged_upload_survives_postgresql_killed_mid_stream(chaos: Chaos) -> None:
    """Single uploads run on four threads while PostgreSQL is ``kill -9``-ed and restarted twice: every upload
    answered 2xx is in the batch afterwards (commits are flushed before the answer), the rest got an error."""
    staging = "/data-staging/v1/external/chaos/batches/acked"
    acknowledged: set[str] = set()
    refused: list[int] = []
    lock = threading.Lock()
    _, data = cv2.imencode(".jpg", np.full((16, 16, 3), 128, np.uint8))

    def upload(i: int) -> None:
        name = f"a{i:05d}.jpg"
        try:
            resp = httpx.post(f"{chaos.base_url}{staging}/upload/image", params={
                "api_key": chaos.api_key, "fileName": name}, files={name: (name, data.tobytes())}, timeout=30)
        except httpx.HTTPError:
            return  # no answer: the client does not know, nothing was promised
        with lock:
            if resp.status_code < 300:
                acknowledged.add(name)
            else:
                refused.append(resp.status_code)

    with ThreadPoolExecutor(4) as pool:
        running = [pool.submit(upload, i) for i in range(1200)]
        for kill_at in (300, 700):
            wait_for(f"{kill_at} uploads answered", functools.partial(_at_least, acknowledged, kill_at), timeout=180)
            chaos.restart_component("postgres")
        for future in running:
            future.result()

    api = httpx.Client(base_url=chaos.base_url, params={"api_key": chaos.api_key}, timeout=30)
    stored: set[str] = set()
    token = None
    while True:
        page = api.get(f"{staging}/list", params={"nextPageToken": token} if token else {}).json()
        stored |= {f["fileName"] for f in page["filesMetadata"]}
        token = page.get("nextPageToken")
        if not token:
            break
    lost = sorted(acknowledged - stored)
    assert not lost, f"{len(lost)} acknowledged uploads lost: {lost[:10]}"
    assert len(acknowledged) >= 900 and chaos.kills.count("postgres") >= 2


def _at_least(items: set[str], count: int) -> bool:
    return len(items) >= count
