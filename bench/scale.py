"""Conveyor at a million files: staging, a no-op job and its export, the listings to their end, and expiry,
with what every phase costs in time, memory, rows, objects and messages.

    .venv/bin/python -m bench.scale --files 10000 100000 1000000

Each size runs on a fresh installation (its own home under bench/.home-scale, the defaults of `conveyor up`):
9 in 10 files through bulk tar uploads of 500, 1 in 10 through a references file whose images a local web
server answers; then a no-op job over the batch (processing + export), the batch listed and the export's
rows downloaded and counted (every file exactly once), then the batch expired and swept while a small job
runs beside. The service processes' resident memory is sampled every second. Written to
bench/results/scale.json, with how each figure grows from one size to the next.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import TAR_LIMIT, report, running_conveyor, tar_of_bytes, tiny_jpegs
from bench.orchestration import NOOP, job_body
from bench.origin import origin
from bench.probes import MemorySampler, conveyor_processes, probe
from bench.scale_phases import expire_and_sweep, list_to_end, run_job
from bench.scale_report import rows_of
from conveyor_client.client import ConveyorClient
from shared.config import REPO_ROOT

HOME = REPO_ROOT / "bench" / ".home-scale"
MIB = 1 << 20


def stage(client: ConveyorClient, batch: str, files: int, port: int) -> dict[str, float]:
    """Bulk tars of 500 (four uploads at once, as a client with a folder would), then one references file."""
    referenced = files // 10
    tarred = files - referenced
    pool = tiny_jpegs(TAR_LIMIT)
    started = time.perf_counter()

    def upload(start: int) -> None:
        count = min(TAR_LIMIT, tarred - start)
        client.tar_upload(batch, tar_of_bytes([(f"t{i:07d}.jpg", pool[i % TAR_LIMIT])
                                               for i in range(start, start + count)]))

    with concurrent.futures.ThreadPoolExecutor(4) as uploads:
        list(uploads.map(upload, range(0, tarred, TAR_LIMIT)))
    uploaded = time.perf_counter()
    while client.count(batch) < tarred:
        time.sleep(0.5)
    tars_s = time.perf_counter() - started
    refs_started = time.perf_counter()
    if referenced:
        client.ingest_references(batch, "image", {
            "imageReferencesURL": f"http://127.0.0.1:{port}/refs-0-{referenced}.jsonl"})
        while client.count(batch) < files:
            time.sleep(0.5)
    refs_s = time.perf_counter() - refs_started
    return {"tar_files": tarred, "tar_upload_s": uploaded - started, "tar_staged_s": tars_s,
            "reference_files": referenced, "references_staged_s": refs_s}


def run_size(files: int, page_size: int) -> dict[str, Any]:
    shutil.rmtree(HOME, ignore_errors=True)
    with origin() as port, running_conveyor(CONVEYOR_HOME=str(HOME), CONVEYOR_PORT_BASE="24000",
                                            INGEST_ALLOWED_FETCH_HOSTS=f'["127.0.0.1:{port}"]',
                                            INGEST_EXPIRY_SWEEP_INTERVAL_S="2") as (base, key):
        env = dict(os.environ)
        prefix = env.get("KAFKA_TOPIC_PREFIX", "conveyor")
        client = ConveyorClient(base, key, timeout=600)
        client.put_workflow("noop", NOOP)
        before = probe(env, prefix)
        with MemorySampler(conveyor_processes(HOME, HOME)) as memory:
            memory.mark("start")
            batch = f"scale-{files}"
            staging = stage(client, batch, files, port)
            memory.mark("staged")
            job = run_job(client, batch, job_body(client.workspace, batch))
            memory.mark("exported")
            after = probe(env, prefix)
            listing = list_to_end(client, batch, page_size)
            count_ms = sorted(_timed_ms(lambda: client.count(batch)) for _ in range(20))
            with tempfile.TemporaryDirectory(dir=REPO_ROOT / "bench") as target:
                verified = _export_rows(client, batch, Path(target))
            memory.mark("listed")
            expiry = expire_and_sweep(client, env, batch, files)
            memory.mark("swept")
            swept = probe(env, prefix)
        client.close()
    assert listing["files"] == listing["distinct"] == files, listing
    assert verified == {"rows": files, "distinct": files}, verified
    return {"files": files, "staging": staging, "job": job, "listing": listing,
            "count_ms": {"median": statistics.median(count_ms), "max": count_ms[-1]},
            "export_rows": verified, "expiry": expiry, "before": before, "after": after, "swept": swept,
            "pss_mib": {"peak": {k: v / MIB for k, v in memory.peak.items()},
                        **{phase: {k: v / MIB for k, v in m.items()} for phase, m in memory.marks.items()}},
            "cpu_s": memory.cpu_marks, "memory_samples": memory.samples}


def _timed_ms(call: Any) -> float:
    started = time.perf_counter()
    call()
    return (time.perf_counter() - started) * 1000


def _export_rows(client: ConveyorClient, batch: str, target: Path) -> dict[str, int]:
    rows = client.download_results(batch, target)
    return {"rows": len(rows), "distinct": len({r["image"] for r in rows})}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--page-size", type=int, default=1000, help="page size of the listings walked to their end")
    args = parser.parse_args()
    runs: list[dict[str, Any]] = []
    for n in args.files:  # reported after each size, so a long run that stops keeps what it measured
        runs.append(run_size(n, args.page_size))
        report("scale", rows_of(runs), {"runs": runs})


if __name__ == "__main__":
    main()
