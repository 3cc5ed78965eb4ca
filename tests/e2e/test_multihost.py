"""Conveyor across four hosts (network namespaces joined by a bridge, all addressed by IP): host A runs the
stack (Tansu, PostgreSQL, SeaweedFS) on its own address, host B ingest, scheduler, export, notifier and the
gateway, hosts C and D one worker each; this test is the client, on the bridge's address. A job of 2,000 images
runs while host C is cut off for longer than the stall window: its task goes to D, and when C comes back its
stale attempt adds nothing. Then host B is cut off from everything for 30 s, and the next job must succeed
with no process restarted. The figures (detection, re-dispatch, total) are printed and written to
``multihost.json`` in the test's folder."""

from __future__ import annotations

import asyncio
import functools
import json
import re
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from deploy.local.stack import LocalStack
from shared.config import REPO_ROOT
from tests.fixtures.coloured import assert_each_once_with_its_content, coloured_tars, exported
from tests.fixtures.hosts import Network
from tests.fixtures.pipeline import job_body

FILES, PER_TASK, STALL_S = 2000, 50, 8
PORTS = {"gateway": 9900, "ingest": 9901, "scheduler": 9902, "worker": 9903, "export": 9904, "notifier": 9905}
# a copy of each input (its content checked in the export) and the default model's detections: a task of 50
# images takes about a second, so host C is cut off while it runs one
WORKFLOW = {"version": "1.0", "inputs": [{"type": "WorkflowImage", "name": "image"}],
            "steps": [{"type": "roboflow_core/roboflow_object_detection_model@v2", "name": "det",
                       "images": "$inputs.image", "model_id": "yolov4-tiny-coco"}],
            "outputs": [{"type": "JsonField", "name": "copy", "selector": "$inputs.image"},
                        {"type": "JsonField", "name": "predictions", "selector": "$steps.det.predictions"}]}


def until(what: str, check: Callable[[], Any], timeout: float = 120, every: float = 0.2) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if value := check():
                return value
        except (httpx.HTTPError, OSError):
            pass
        time.sleep(every)
    pytest.fail(f"timed out waiting for {what}")


def test_a_host_cut_off_mid_job_and_a_cut_link_lose_nothing(network: Network, tmp_path: Path) -> None:
    a = network.hosts["a"]
    stack = LocalStack(base=tmp_path / "stack", port_base=26000, host=a.address, durable=False)
    started = subprocess.run(
        ["ip", "netns", "exec", a.name, sys.executable, "-c",
         "from pathlib import Path; from deploy.local.stack import LocalStack; "
         f"LocalStack(base=Path({str(stack.base)!r}), port_base=26000, host={a.address!r}, durable=False).start()"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=180)
    assert started.returncode == 0, started.stderr[-3000:]
    try:
        _run(network, stack, tmp_path)
    finally:
        stack.stop()


def _run(network: Network, stack: LocalStack, tmp_path: Path) -> None:
    b, c, d = (network.hosts[n] for n in "bcd")
    gateway = f"http://{b.address}:{PORTS['gateway']}"
    base = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO_ROOT), **stack.env(), "KAFKA_TOPIC_PREFIX": "mh",
            "CONVEYOR_SIGNING_SECRET": "multihost-signing-secret-0123456789", "CONVEYOR_PUBLIC_URL": gateway,
            "KAFKA_SESSION_TIMEOUT_MS": "6000", "KAFKA_HEARTBEAT_INTERVAL_MS": "1000",
            "SCHEDULER_TASK_STALL_S": str(STALL_S), "SCHEDULER_IMAGES_PER_TASK": str(PER_TASK),
            "SCHEDULER_DEFAULT_MAX_PARALLEL_TASKS": "4", "INGEST_INGEST_SETTLE_S": "1",
            "WORKER_HEARTBEAT_INTERVAL_S": "1",
            # a consumer group waits this long for a member that vanished to rejoin (Tansu does not end its
            # session early): the bound on how long a cut-off worker's partitions stay unserved
            "KAFKA_MAX_POLL_INTERVAL_MS": "15000"}
    logs = tmp_path / "logs"
    logs.mkdir()

    def start(host: Any, service: str) -> subprocess.Popen[bytes]:
        module = "deploy.gateway" if service == "gateway" else f"{service}_svc"
        listen = {"CONVEYOR_GATEWAY_HOST": host.address, "CONVEYOR_GATEWAY_PORT": str(PORTS["gateway"]),
                  **{f"CONVEYOR_UPSTREAM_{s.upper()}": f"http://{b.address}:{p}" for s, p in PORTS.items()
                     if s not in ("gateway", "worker")},
                  # the gateway routes nothing to workers; its health looks at one (host D's, never cut)
                  "CONVEYOR_UPSTREAM_WORKER": f"http://{d.address}:{PORTS['worker']}"} if service == "gateway" else {
            f"{service.upper()}_HOST": host.address, f"{service.upper()}_PORT": str(PORTS[service])}
        return host.run([sys.executable, "-m", module], {**base, **listen}, logs / f"{service}-{host.name}.log")

    for service in ("ingest", "scheduler", "export", "notifier", "gateway"):
        start(b, service)
    workers = {c.name: start(c, "worker"), d.name: start(d, "worker")}
    for host, service in [(b, s) for s in ("ingest", "scheduler", "export", "notifier", "gateway")] + [
            (c, "worker"), (d, "worker")]:
        url = f"http://{host.address}:{PORTS[service]}/healthz"
        until(f"{service} on {host.name}", functools.partial(_answers, url))

    made = subprocess.run(["ip", "netns", "exec", b.name, sys.executable, "-m", "deploy.admin", "workspace", "create",
                           "mh"], cwd=REPO_ROOT, env=base, capture_output=True, text=True, timeout=120)
    key = re.search(r"cvr_\S+", made.stdout)
    assert key, made.stdout + made.stderr
    api = httpx.Client(base_url=gateway, params={"api_key": key.group(0)}, timeout=30)
    staging, jobs = "/data-staging/v1/external/mh", "/batch-processing/v1/external/mh"
    for archive in coloured_tars(FILES):
        signed = api.post(f"{staging}/batches/photos/bulk-upload/image-files").json()["signedURLDetails"]
        assert signed["uploadURL"].startswith(gateway)  # a link handed out by host B that works from another host
        sent = httpx.put(signed["uploadURL"], content=archive, headers=signed["extensionHeaders"], timeout=60)
        assert sent.status_code < 300, sent.text
    until("2,000 staged files", lambda: api.get(f"{staging}/batches/photos/count").json()["count"] == FILES)
    assert api.put("/mh/workflows/copy", json={"specification": WORKFLOW}).status_code == 200
    body = job_body("mh", "photos", "copy", persistImagesOutputs=True)
    assert api.post(f"{jobs}/jobs/cut-c", json=body).status_code == 200

    async def taken_by(worker_pid: int, state: str | None = "running") -> list[asyncpg.Record]:
        """Tasks whose current attempt the worker took (and, with ``state``, still runs)."""
        conn = await asyncpg.connect(stack.env()["DATABASE_URL"])
        try:
            return await conn.fetch("SELECT task_id, attempt, worker_id FROM tasks WHERE job_id = 'cut-c'"
                                    " AND ($2::text IS NULL OR state = $2) AND worker_id LIKE $1",
                                    f"%-{worker_pid}-%", state)
        finally:
            await conn.close()

    c_pid, d_pid = workers[c.name].pid, workers[d.name].pid
    def moved_or_finished(lost: asyncpg.Record) -> list[asyncpg.Record] | str:
        """The task's next attempt on host D; or "finished" where C's result, sent just before the cut, landed
        after all (under load, later than the second the test waits before it looks)."""
        again = [r for r in asyncio.run(taken_by(d_pid, None))
                 if r["task_id"] == lost["task_id"] and r["attempt"] > lost["attempt"]]
        finished = [r for r in asyncio.run(taken_by(c_pid, "succeeded"))
                    if r["task_id"] == lost["task_id"] and r["attempt"] == lost["attempt"]]
        return again or ("finished" if finished else [])

    for _ in range(5):
        until("a task running on host C", lambda: asyncio.run(taken_by(c_pid))[:1], timeout=120, every=0.05)
        cut_at = time.monotonic()
        c.cut()
        time.sleep(1)  # most results host C sent just before the cut have landed by now
        still_running = asyncio.run(taken_by(c_pid))
        if still_running:
            cut_off = still_running[0]
            outcome = until("host C's task dispatched again", functools.partial(moved_or_finished, cut_off),
                            timeout=120, every=0.2)
            if not isinstance(outcome, str):
                lost, moved = cut_off, outcome
                break
        c.reconnect()  # a task takes a third of a second: C finished it as it was cut; cut it mid-task again
    else:
        pytest.fail("host C was never cut off in the middle of a task")
    redispatched_at = time.monotonic()
    time.sleep(max(0.0, STALL_S + 4 - (redispatched_at - cut_at)))  # cut off well past the stall window
    c.reconnect()
    reconnected_at = time.monotonic()
    final = until("the job to end", lambda: (j := api.get(f"{jobs}/jobs/cut-c").json()["job"])["isTerminal"] and j,
                  timeout=300, every=0.5)
    done_at = time.monotonic()
    assert final["state"] == "succeeded", final
    # C's stale attempt ends (stopped by the job's end, or finished) without adding a row
    until("host C's stale attempt to end", lambda: _task_ended(logs / f"worker-{c.name}.log", lost), timeout=60)
    _check_export(api, staging, "cut-c")
    assert api.get(f"{staging}/batches/cut-c-processing/count").json()["count"] == FILES + FILES // PER_TASK

    b.cut()
    time.sleep(30)  # the database and the broker are out of reach of every service on host B
    b.reconnect()
    healed_at = time.monotonic()
    until("the services on host B to answer", lambda: api.get(f"{staging}/batches/photos/count").status_code == 200,
          timeout=120)
    assert api.post(f"{jobs}/jobs/after-cut", json=body).status_code == 200
    after = until("the job after the cut", lambda: (j := api.get(f"{jobs}/jobs/after-cut").json()["job"])[
        "isTerminal"] and j, timeout=300, every=0.5)
    assert after["state"] == "succeeded", after
    _check_export(api, staging, "after-cut")
    assert all(p.poll() is None for host in network.hosts.values() for p in host.procs), "a process died"
    figures = {"files": FILES, "stall_window_s": STALL_S, "task": moved[0]["task_id"],
               "host_c_cut_to_redispatch_on_d_s": round(redispatched_at - cut_at, 2),
               "host_c_cut_s": round(reconnected_at - cut_at, 2), "job_total_s": round(done_at - cut_at, 2),
               "b_cut_s": 30, "b_reconnect_to_next_job_succeeded_s": round(time.monotonic() - healed_at, 2)}
    print("multihost:", json.dumps(figures))
    (tmp_path / "multihost.json").write_text(json.dumps(figures, indent=2))


def _answers(url: str) -> bool:
    return httpx.get(url, timeout=2).status_code == 200


def _task_ended(log: Path, task: asyncpg.Record) -> bool:
    for line in log.read_text().splitlines():
        if line.startswith("{"):
            entry = json.loads(line)
            if (entry.get("task_id"), entry.get("attempt")) == (task["task_id"], task["attempt"]) \
                    and entry.get("message", "").startswith("task "):
                return True
    return False


def _check_export(api: httpx.Client, staging: str, job_id: str) -> None:
    """Every input exactly once in the export, each with its own content (its colour survives the copy)."""
    listing = api.get(f"{staging}/batches/{job_id}-export/list", params={"partName": "archives"}).json()
    assert_each_once_with_its_content(*exported(listing), FILES)
