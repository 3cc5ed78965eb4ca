"""The timed phases of ``bench.scale`` after staging: the job, the listings, expiry."""

from __future__ import annotations

import asyncio
import statistics
import time
from typing import Any

import asyncpg

from bench.common import TAR_LIMIT, wait_job
from bench.orchestration import job_body, staged
from conveyor_client.client import ConveyorClient


def run_job(client: ConveyorClient, batch: str, body: dict[str, Any], poll_s: float = 1.0) -> dict[str, float]:
    """Submit -> first result durable (the job's progress moves) -> last result (the processing stage has
    succeeded) -> exported (the job has ended), polled every ``poll_s`` as a client would."""
    submitted = time.perf_counter()
    client.create_job(batch, body)
    first = last = None
    while True:
        job = client.job(batch)
        now = time.perf_counter() - submitted
        if first is None and job["progress"] > 0:
            first = now
        if last is None and any(s["processingStageId"] == "processing" and s["statusType"] == "success"
                                for s in client.stages(batch)):
            last = now
        if job["isTerminal"]:
            assert job["state"] == "succeeded", job
            tasks = sum(s["tasksNumber"] for s in client.stages(batch) if s["processingStageId"] == "processing")
            return {"first_result_s": first or now, "last_result_s": last or now, "exported_s": now, "tasks": tasks}
        time.sleep(poll_s)


def list_to_end(client: ConveyorClient, batch: str, page_size: int) -> dict[str, Any]:
    """The batch listed page by page to its end; each page timed, so a deep page can be set against the first."""
    names: list[str] = []
    latencies: list[float] = []
    token = None
    path = client.staging(f"/batches/{batch}/list")
    while True:
        started = time.perf_counter()
        page = client._call("GET", path, params={"pageSize": page_size, **({"nextPageToken": token} if token else {})})
        latencies.append((time.perf_counter() - started) * 1000)
        names += [f["fileName"] for f in page["filesMetadata"]]
        token = page.get("nextPageToken")
        if not token:
            break
    head, tail = latencies[:10], latencies[-10:]
    return {"files": len(names), "distinct": len(set(names)), "pages": len(latencies), "page_size": page_size,
            "total_s": sum(latencies) / 1000, "first_pages_ms": statistics.median(head),
            "last_pages_ms": statistics.median(tail), "max_page_ms": max(latencies)}


async def _expire(dsn: str, workspace: str, batch: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("UPDATE batches SET expires_at = now() WHERE batch_id = $1 AND workspace_id ="
                           " (SELECT id FROM workspaces WHERE slug = $2)", batch, workspace)
    finally:
        await conn.close()


async def _files_left(dsn: str, batch: str) -> int:
    conn = await asyncpg.connect(dsn)
    try:
        return int(await conn.fetchval("SELECT count(*) FROM files WHERE batch_id = $1", batch))
    finally:
        await conn.close()


def expire_and_sweep(client: ConveyorClient, env: dict[str, str], batch: str, files: int) -> dict[str, Any]:
    """The batch's expiry brought forward to now (its 7 days are what the sweeper reads), then, while the
    sweeper deletes it, a small batch of 500 is staged and run: how long that takes against the same before."""
    baseline = _small_job(client, "side-before")
    started = time.perf_counter()
    asyncio.run(_expire(env["DATABASE_URL"], client.workspace, batch))
    beside = _small_job(client, "side-during")
    while asyncio.run(_files_left(env["DATABASE_URL"], batch)) > 0:
        time.sleep(0.5)
    swept_s = time.perf_counter() - started
    while _exists(client, batch):
        time.sleep(0.5)
    return {"files": files, "rows_gone_s": swept_s, "batch_gone_s": time.perf_counter() - started,
            "small_job_before_s": baseline, "small_job_during_s": beside}


def _exists(client: ConveyorClient, batch: str) -> bool:
    try:
        client.batch(batch)
    except Exception as exc:
        return getattr(exc, "status", None) not in (404, 410)
    return True


def _small_job(client: ConveyorClient, batch: str) -> float:
    """Stage 500 files and run the no-op job over them: seconds from upload to the job's end."""
    started = time.perf_counter()
    staged(client, batch, TAR_LIMIT)
    client.create_job(batch, job_body(client.workspace, batch))
    wait_job(client, batch, poll_s=0.2)
    return time.perf_counter() - started
