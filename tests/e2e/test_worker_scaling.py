"""Workers come and go the way an autoscaler (KEDA, on the task topic's consumer lag) adds and removes them: a
worker process started while a job runs takes part of it; with every worker stopped (scaled to zero) a new job
waits, losing nothing, until a worker starts. Every file is exported exactly once. (On this 2-core machine a
second process cannot raise the throughput of a CPU-bound job, so the test shows the new worker's share, not a
speed-up.)"""

from __future__ import annotations

import asyncio
import io
import json
import os
import signal
import subprocess
import sys
import tarfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from aiokafka.admin import AIOKafkaAdminClient

from shared.config import REPO_ROOT
from tests.fixtures.deployment import Deployment
from tests.fixtures.media import jpeg
from tests.fixtures.pipeline import job_body
from tests.fixtures.workflows import detect_workflow

FILES, PER_TAR = 600, 300
STAGING, JOBS = "/data-staging/v1/external/e2e", "/batch-processing/v1/external/e2e"
# a joining worker waits for the group's rebalance, which waits for members that vanished up to the poll interval
# on Tansu (600 s by default; tasks here take well under a second)
pytestmark = pytest.mark.parametrize(
    "deployment", [{"SCHEDULER_IMAGES_PER_TASK": "10", "KAFKA_MAX_POLL_INTERVAL_MS": "15000"}], indirect=True)


def _api(dep: Deployment) -> httpx.Client:
    return httpx.Client(base_url=dep.base_url, params={"api_key": dep.api_key}, timeout=30)


def _stage(api: httpx.Client, batch: str) -> None:
    for start in range(0, FILES, PER_TAR):
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w") as tar:
            for i in range(start, start + PER_TAR):
                data = jpeg(i, size=(240, 320))
                info = tarfile.TarInfo(f"s{i:04d}.jpg")
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
        signed = api.post(f"{STAGING}/batches/{batch}/bulk-upload/image-files").json()["signedURLDetails"]
        sent = httpx.put(signed["uploadURL"], content=buf.getvalue(), headers=signed["extensionHeaders"])
        assert sent.status_code < 300, sent.text
    deadline = time.monotonic() + 60
    while api.get(f"{STAGING}/batches/{batch}/count").json()["count"] < FILES:
        assert time.monotonic() < deadline, "staging did not finish"
        time.sleep(0.3)


def _extra_worker(dep: Deployment, port: int, log: Path) -> subprocess.Popen[bytes]:
    """One more worker process, as a replica the autoscaler adds: the production entry point, same stack."""
    env = {**os.environ, **dep.env, "WORKER_PORT": str(port), "CONVEYOR_LOG_FILE": str(log)}
    proc = subprocess.Popen([sys.executable, "-m", "worker_svc"], cwd=REPO_ROOT, env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 90
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            proc.wait(10)
            pytest.fail(f"the extra worker did not start:\n{log.read_text()[-3000:] if log.exists() else ''}")
        time.sleep(0.2)


def _wait_job(api: httpx.Client, job_id: str, timeout: float = 240) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while not (job := api.get(f"{JOBS}/jobs/{job_id}").json()["job"])["isTerminal"]:
        assert time.monotonic() < deadline, job
        time.sleep(0.3)
    return job


def _exported_once(api: httpx.Client, job_id: str) -> None:
    names: Counter[str] = Counter()
    listing = api.get(f"{STAGING}/batches/{job_id}-export/list", params={"partName": "archives"}).json()
    for meta in listing["filesMetadata"]:
        with tarfile.open(fileobj=io.BytesIO(httpx.get(meta["downloadURL"], timeout=60).content), mode="r:gz") as tar:
            for member in tar.getmembers():
                extracted = tar.extractfile(member)
                if extracted is not None and member.name.endswith(".jsonl"):
                    names.update(json.loads(line)["image"] for line in extracted.read().decode().splitlines())
    assert set(names) == {f"s{i:04d}.jpg" for i in range(FILES)} and max(names.values()) == 1


async def _processing_tasks(dep: Deployment, job_id: str) -> list[asyncpg.Record]:
    """The job's processing tasks as the scheduler records them (state, and the worker of their attempt)."""
    conn = await asyncpg.connect(dep.env.get("DATABASE_URL") or os.environ["DATABASE_URL"])
    try:
        return await conn.fetch("SELECT state, worker_id FROM tasks WHERE job_id = $1 AND stage_id = 'processing'",
                                job_id)
    finally:
        await conn.close()


def _workers_of(dep: Deployment, job_id: str) -> set[str]:
    return {r["worker_id"] for r in asyncio.run(_processing_tasks(dep, job_id)) if r["state"] == "succeeded"}


@pytest.fixture(scope="module")
def staged(deployment: Deployment) -> str:
    with _api(deployment) as api:
        _stage(api, "scale-in")
        assert api.put("/e2e/workflows/scale-wf", json={"specification": detect_workflow()}).status_code == 200
    return "scale-in"


def _task_states(dep: Deployment, job_id: str) -> Counter[str]:
    return Counter(r["state"] for r in asyncio.run(_processing_tasks(dep, job_id)))


async def _group_members(dep: Deployment) -> tuple[str, int]:
    admin = AIOKafkaAdminClient(bootstrap_servers=dep.env.get("KAFKA_BOOTSTRAP_SERVERS")
                                or os.environ["KAFKA_BOOTSTRAP_SERVERS"])
    await admin.start()
    try:
        (described,) = await admin.describe_consumer_groups(["e2e.workers-cpu"])
        (group,) = described.groups
        return group[2], len(group[5])  # (error_code, group, state, protocol_type, protocol, members)
    finally:
        await admin.close()


def _wait_group_settled(dep: Deployment, members: int) -> None:
    """Scale down one step at a time, as KEDA's cooldown does: on Tansu a worker that leaves while its group is
    still rebalancing after another one left can stay the group's leader for good (README, known gaps)."""
    deadline = time.monotonic() + 30
    while (found := asyncio.run(_group_members(dep))) != ("Stable", members):
        assert time.monotonic() < deadline, f"the workers' group did not settle: {found}"
        time.sleep(0.5)


def _stop_deployment_worker(dep: Deployment) -> None:
    """Scale to zero: the deployment's own worker is stopped the way Kubernetes stops a pod (SIGTERM)."""
    (name, pid), = [(n, p) for n, p in dep.pids().items() if n.startswith("worker")]
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 30
    while Path(f"/proc/{pid}").exists() and Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z":
        assert time.monotonic() < deadline, f"{name} did not stop on SIGTERM"
        time.sleep(0.2)


def test_a_worker_added_while_a_job_runs_takes_part_of_it(deployment: Deployment, staged: str,
                                                          tmp_path: Path) -> None:
    with _api(deployment) as api:
        assert api.post(f"{JOBS}/jobs/scale-up", json=job_body("e2e", staged, "scale-wf")).status_code == 200
        extra = _extra_worker(deployment, 9190, tmp_path / "worker-extra.log")
        try:
            job = _wait_job(api, "scale-up")
            assert job["state"] == "succeeded", job
            _exported_once(api, "scale-up")
            workers = _workers_of(deployment, "scale-up")
            assert len(workers) == 2, f"the added worker took no task: {workers}"
            assert any(f"-{extra.pid}-" in w for w in workers)
        finally:
            extra.terminate()
            extra.wait(20)


def test_with_every_worker_stopped_a_job_waits_for_one_and_loses_nothing(deployment: Deployment, staged: str,
                                                                         tmp_path: Path) -> None:
    _wait_group_settled(deployment, members=1)
    _stop_deployment_worker(deployment)
    with _api(deployment) as api:
        assert api.post(f"{JOBS}/jobs/scale-zero", json=job_body("e2e", staged, "scale-wf")).status_code == 200
        # no worker: the tasks are dispatched and wait on the topic (the lag KEDA scales on); nothing fails
        deadline = time.monotonic() + 60
        while (states := _task_states(deployment, "scale-zero")).total() < FILES // 10:
            assert time.monotonic() < deadline, f"the job was not split into tasks: {states}"
            time.sleep(0.5)
        time.sleep(10)
        job = api.get(f"{JOBS}/jobs/scale-zero").json()["job"]
        assert not job["isTerminal"], job
        assert set(_task_states(deployment, "scale-zero")) <= {"pending", "queued"}
        started = time.monotonic()
        worker = _extra_worker(deployment, 9190, tmp_path / "worker-new.log")
        try:
            job = _wait_job(api, "scale-zero")
            assert job["state"] == "succeeded", job
            _exported_once(api, "scale-zero")
            workers = _workers_of(deployment, "scale-zero")
            assert workers and all(f"-{worker.pid}-" in w for w in workers), workers
            print(f"scale from zero: the job finished {time.monotonic() - started:.1f} s after a worker started")
        finally:
            worker.terminate()
            worker.wait(20)
