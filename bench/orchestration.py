"""Orchestration alone: a no-op workflow (no model), so every second is Conveyor's own cost.

    .venv/bin/python -m bench.orchestration [--files 10000] [--latency-runs 10]

* files/s staged -> exported: a tar of small JPEGs is bulk-uploaded and indexed, then a no-op image job runs
  through both stages (Kafka task events, S3 reads and writes, per-task results, export archives);
* latency from job submit to the first result (the first task's results durable), p50/p95 over small jobs.
Written to bench/results/orchestration.json (orchestration-<n>-ingest-<m>-worker.json with more processes).
"""

from __future__ import annotations

import argparse
import statistics
import time

from bench.common import TAR_LIMIT, report, running_conveyor, tiny_images, wait_job
from conveyor_client.client import ConveyorClient

NOOP = {"version": "1.0", "inputs": [{"type": "WorkflowImage", "name": "image"}], "steps": [],
        "outputs": [{"type": "JsonField", "name": "image", "selector": "$inputs.image"}]}


def job_body(workspace: str, batch: str) -> dict:
    return {"type": "simple-image-processing-v1", "jobInput": {"type": "staging-batch-input-v1", "batchId": batch},
            "computeConfiguration": {"type": "compute-configuration-v2", "machineType": "cpu"},
            "processingSpecification": {"type": "workflows-processing-specification-v1", "workspace": workspace,
                                        "workflowId": "noop"}}


def staged(client: ConveyorClient, batch: str, count: int) -> float:
    archives = [tiny_images(min(TAR_LIMIT, count - i), i) for i in range(0, count, TAR_LIMIT)]
    started = time.perf_counter()
    for archive in archives:
        client.tar_upload(batch, archive)
    while client.count(batch) < count:
        time.sleep(0.05)
    return time.perf_counter() - started


def first_result_latency(client: ConveyorClient, run: int) -> float:
    batch = f"lat{int(time.time()) % 100000}-{run}"  # the bench's home keeps earlier runs' jobs
    staged(client, batch, 8)
    submitted = time.perf_counter()
    client.create_job(batch, job_body(client.workspace, batch))
    while True:
        tasks = client.tasks(batch, "processing")
        if any(t["statusType"] == "success" for t in tasks):
            latency = time.perf_counter() - submitted
            break
        time.sleep(0.01)
    wait_job(client, batch)
    return latency


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--latency-runs", type=int, default=10)
    parser.add_argument("--images-per-task", type=int, default=256)
    parser.add_argument("--workers", type=int, default=1, help="worker processes (CONVEYOR_WORKER_PROCESSES)")
    parser.add_argument("--indexers", type=int, default=1, help="ingest processes (CONVEYOR_INGEST_PROCESSES)")
    args = parser.parse_args()
    with running_conveyor(SCHEDULER_IMAGES_PER_TASK=str(args.images_per_task),
                          CONVEYOR_WORKER_PROCESSES=str(args.workers),
                          CONVEYOR_INGEST_PROCESSES=str(args.indexers)) as (base, key):
        client = ConveyorClient(base, key)
        try:
            client.put_workflow("noop", NOOP)
            batch = f"noop-{int(time.time()) % 100000}"
            stage_s = staged(client, batch, args.files)
            submitted = time.perf_counter()
            client.create_job(batch, job_body(client.workspace, batch))
            job = wait_job(client, batch)
            job_s = time.perf_counter() - submitted
            assert job["state"] == "succeeded", job
            latencies = sorted(first_result_latency(client, i) for i in range(args.latency_runs))
        finally:
            client.close()
    p50 = statistics.median(latencies)
    p95 = latencies[min(len(latencies) - 1, round(0.95 * (len(latencies) - 1)))]
    total = stage_s + job_s
    rows = [("files", f"{args.files} small JPEGs, {args.images_per_task} per task"),
            ("processes", f"{args.indexers} ingest, {args.workers} worker"),
            ("staging (upload + index)", f"{stage_s:.1f} s = {args.files / stage_s:,.0f} files/s"),
            ("no-op job (submit -> exported)", f"{job_s:.1f} s = {args.files / job_s:,.0f} files/s"),
            ("staged -> exported", f"{total:.1f} s = {args.files / total:,.0f} files/s"),
            ("submit -> first result", f"p50 {p50:.2f} s, p95 {p95:.2f} s ({len(latencies)} jobs)")]
    layout = "" if args.workers == args.indexers == 1 else f"-{args.indexers}-ingest-{args.workers}-worker"
    report(f"orchestration{layout}", rows, {"files": args.files, "workers": args.workers, "indexers": args.indexers,
                                   "stage_files_per_s": args.files / stage_s, "job_files_per_s": args.files / job_s,
                                   "end_to_end_files_per_s": args.files / total,
                                   "first_result_latency_s": latencies, "p50_s": p50, "p95_s": p95})


if __name__ == "__main__":
    main()
