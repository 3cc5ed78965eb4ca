"""The scheduler on huge batches: time to split a batch into tasks, and the scheduler's memory while it does.

    .venv/bin/python -m bench.planning [--sizes 10000,100000,1000000]

For each size a batch of that many file records is written straight into PostgreSQL (COPY: staging a million
real files is the ingest benchmark's business, not this one's), then a job is created through the API. The
split is one INSERT ... SELECT inside PostgreSQL, so the scheduler process's memory must stay flat as batches
grow: its resident set is sampled every 5 ms during the call and the growth reported. The job is aborted
right after (its files do not exist in S3). Written to bench/results/planning.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg

from bench.common import report, running_conveyor
from conveyor_client.client import ConveyorClient
from deploy.local.home import home

WORKFLOW = {"version": "1.0", "inputs": [{"type": "WorkflowImage", "name": "image"}], "steps": [],
            "outputs": [{"type": "JsonField", "name": "image", "selector": "$inputs.image"}]}


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


async def write_batch(dsn: str, workspace: str, batch: str, count: int) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        ws_id = await conn.fetchval("SELECT id FROM workspaces WHERE slug = $1", workspace)
        await conn.execute(
            "INSERT INTO batches (workspace_id, batch_id, display_name, batch_type, content_type, expires_at)"
            " VALUES ($1, $2, $2, 'sharded-batch', 'images', $3)", ws_id, batch,
            datetime.now(UTC) + timedelta(days=7))
        chunk = 200_000
        for start in range(0, count, chunk):
            rows = [(ws_id, batch, f"f{i:08d}.jpg", "image/jpeg", 1000, f"bench/{batch}/f{i:08d}.jpg")
                    for i in range(start, min(count, start + chunk))]
            await conn.copy_records_to_table(
                "files", records=rows,
                columns=["workspace_id", "batch_id", "file_name", "content_type", "size_bytes", "object_key"])
    finally:
        await conn.close()


def create_and_measure(client: ConveyorClient, scheduler_pid: int, job_id: str, batch: str) -> tuple[float, int]:
    peak, baseline, done = [0], rss_kib(scheduler_pid), threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], rss_kib(scheduler_pid))
            time.sleep(0.005)

    sampler = threading.Thread(target=sample)
    sampler.start()
    started = time.perf_counter()
    client.create_job(job_id, {
        "type": "simple-image-processing-v1", "jobInput": {"type": "staging-batch-input-v1", "batchId": batch},
        "computeConfiguration": {"type": "compute-configuration-v2", "machineType": "cpu"},
        "maxParallelTasks": 1, "processingSpecification": {
            "type": "workflows-processing-specification-v1", "workspace": client.workspace, "workflowId": "noop"}})
    elapsed = time.perf_counter() - started
    done.set()
    sampler.join()
    client.abort(job_id)
    return elapsed, max(0, peak[0] - baseline)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000,100000,1000000")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    results = []
    with running_conveyor() as (base, key):
        dsn = os.environ["DATABASE_URL"]
        scheduler_pid = json.loads((home() / "services.json").read_text())["scheduler"]
        client = ConveyorClient(base, key)
        try:
            client.put_workflow("noop", WORKFLOW)
            for size in sizes:
                batch = f"plan-{size}-{uuid.uuid4().hex[:6]}"
                written = time.perf_counter()
                asyncio.run(write_batch(dsn, client.workspace, batch, size))
                write_s = time.perf_counter() - written
                job_id = f"p{size}-{uuid.uuid4().hex[:6]}"[:20]
                split_s, growth_kib = create_and_measure(client, scheduler_pid, job_id, batch)
                results.append({"files": size, "write_s": write_s, "split_s": split_s,
                                "scheduler_rss_growth_mib": growth_kib / 1024, "job": job_id})
        finally:
            client.close()
    rows = [(f"{r['files']:>9,} files",
             f"split {r['split_s']:.2f} s, scheduler memory +{r['scheduler_rss_growth_mib']:.1f} MiB") for r in results]
    report("planning", rows, {"runs": results})


if __name__ == "__main__":
    main()
