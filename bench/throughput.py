"""Throughput: the bare model loop (this machine's limit) against Conveyor and the tools users pick instead.

    bash bench/peers/setup.sh      # once: the peers' environments (.venv-inference, .venv-ray)
    .venv/bin/python -m bench.throughput [--images 500] [--threads N] [--no-peers]

Same machine, same images, same YOLOv4-tiny@416 network, in one run:
* bare loop: one process doing only what a worker must do per image — JPEG decode, letterbox, onnxruntime,
  NMS — in two configurations of the same cores: one session with a thread per core (batches of 1 and 8),
  and one single-threaded session per core (the lanes a Conveyor CPU worker uses). The best is the limit.
* Conveyor: the images staged as tars (bulk upload + background indexing), then submit -> job succeeded:
  processing (Kafka task events, S3 reads, results) and export (archives), every service on this machine.
* inference-cli: ``inference workflows process-images-directory --processing_target inference_package``
  (``bench.peers.inference_cli``), whole command timed.
* Ray Data: ``read_binary_files`` -> ``map_batches`` actor pool -> ``write_json`` (``bench.peers.ray_data``).
Images/s and Conveyor's ratio to each are printed and written to bench/results/throughput.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from bench.common import DATA, TAR_LIMIT, real_images, report, running_conveyor, tar_of, wait_job
from bench.peers import inference_cli
from shared.cli.client import ConveyorClient
from shared.cli.demo import detector_workflow
from shared.config import REPO_ROOT, ServiceSettings
from shared.models.default import ensure_default_model
from shared.models.detector import OnnxDetector


def bare_loop(files: list[Path], threads: int | None, batch: int, sessions: int = 1) -> tuple[float, int]:
    """Images/s and detections of ``sessions`` threads, each decoding and detecting its share of the files
    on its own session of ``threads`` onnxruntime threads, ``batch`` images per run."""
    model = ensure_default_model(ServiceSettings().cache_dir / "models")
    detectors = [OnnxDetector(model.onnx_path, model.class_names, input_size=model.input_size, threads=threads,
                              prefer_gpu=False) for _ in range(sessions)]
    for d in detectors:
        d.detect([np.zeros((416, 416, 3), np.uint8)])  # warm-up: session initialisation is not throughput

    def share(lane: int) -> int:
        mine, found = files[lane::sessions], 0
        for i in range(0, len(mine), batch):
            images = [cv2.imdecode(np.frombuffer(f.read_bytes(), np.uint8), cv2.IMREAD_COLOR)
                      for f in mine[i:i + batch]]
            found += sum(len(d) for d in detectors[lane].detect(images, confidence=0.35))
        return found

    started = time.perf_counter()
    with ThreadPoolExecutor(sessions) as pool:
        found = sum(pool.map(share, range(sessions)))
    return len(files) / (time.perf_counter() - started), found


def bench_workflow() -> dict[str, Any]:
    workflow = detector_workflow()
    workflow["steps"] = workflow["steps"][:2]  # detection + count, as the bare loop does
    workflow["outputs"] = workflow["outputs"][:2]
    return workflow


def ray_data(files: list[Path]) -> dict[str, Any]:
    python = REPO_ROOT / ".venv-ray" / "bin" / "python"
    model = ensure_default_model(ServiceSettings().cache_dir / "models")
    work = DATA / "ray"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    onnx = shutil.copy(model.onnx_path, work / "model.onnx")
    (work / "model.names.json").write_text(json.dumps(model.class_names))
    done = subprocess.run([str(python), "-m", "bench.peers.ray_data", str(files[0].parent), str(onnx),
                           str(work / "out")], capture_output=True, text=True, cwd=REPO_ROOT,
                          env={**os.environ, "PYTHONPATH": str(REPO_ROOT), "RAY_AUTH_MODE": "disabled"})
    if done.returncode != 0:
        raise RuntimeError(f"the Ray Data run failed ({done.returncode}): {done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    if result["images"] != len(files):
        raise RuntimeError(f"Ray Data wrote {result['images']} results for {len(files)} images")
    return result


def conveyor_job(files: list[Path], threads: int | None, worker_env: dict[str, str]) -> dict[str, float]:
    env = {"WORKER_ORT_THREADS": str(threads or 0), **worker_env}
    with running_conveyor(**env) as (base, key):
        client = ConveyorClient(base, key)
        try:
            client.put_workflow("bench-detect", bench_workflow())
            batch = f"bench-{int(time.time())}"
            staged = time.perf_counter()
            for i in range(0, len(files), TAR_LIMIT):
                client.tar_upload(batch, tar_of(files[i:i + TAR_LIMIT]))
            while client.count(batch) < len(files):
                time.sleep(0.1)
            stage_s = time.perf_counter() - staged
            body = {"type": "simple-image-processing-v1",
                    "jobInput": {"type": "staging-batch-input-v1", "batchId": batch},
                    "computeConfiguration": {"type": "compute-configuration-v2", "machineType": "cpu"},
                    "processingSpecification": {"type": "workflows-processing-specification-v1",
                                                "workspace": client.workspace, "workflowId": "bench-detect"}}
            submitted = time.perf_counter()
            client.create_job(batch[:20], body)
            job = wait_job(client, batch[:20])
            total_s = time.perf_counter() - submitted
            assert job["state"] == "succeeded", job
        finally:
            client.close()
    return {"stage_s": stage_s, "job_s": total_s, "images_per_s": len(files) / total_s,
            "runtime_s": job["runtimeSeconds"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=500)
    parser.add_argument("--threads", type=int, default=0, help="onnxruntime threads (0: one per core)")
    parser.add_argument("--worker", action="append", default=[], metavar="KEY=VALUE",
                        help="worker setting for the Conveyor run, e.g. WORKER_BATCH_SIZE=1 (repeatable)")
    parser.add_argument("--no-peers", action="store_true", help="skip inference-cli and Ray Data")
    parser.add_argument("--conveyor-only", action="store_true", help="only the Conveyor run (tuning)")
    args = parser.parse_args()
    files = real_images(args.images)
    threads = args.threads or None
    worker_env = dict(kv.split("=", 1) for kv in args.worker)
    if args.conveyor_only:
        print(conveyor_job(files, threads, worker_env))
        return
    bare = {"1 session x all cores, batch 1": bare_loop(files, threads, batch=1),
            "1 session x all cores, batch 8": bare_loop(files, threads, batch=8),
            "1 session per core x 1 thread, batch 1": bare_loop(files, 1, batch=1, sessions=os.cpu_count() or 1)}
    limit = max(v for v, _ in bare.values())
    conveyor = conveyor_job(files, threads, worker_env)
    peers: dict[str, dict[str, Any]] = {}
    if not args.no_peers:
        if inference_cli.available():
            wf = bench_workflow()
            peers["inference-cli (process-images-directory, local)"] = inference_cli.run(
                files[0].parent, inference_cli.workflow(wf["steps"], wf["outputs"]), len(files))
        if (REPO_ROOT / ".venv-ray" / "bin" / "python").exists():
            peers["Ray Data (map_batches, actor per core)"] = ray_data(files)
    rows = [("images", f"{len(files)} real photos/frames, 320-1600 px wide, {os.cpu_count()} cores")]
    rows += [(f"bare loop: {k}", f"{v:.1f} images/s ({found} detections)") for k, (v, found) in bare.items()]
    rows += [("Conveyor: staging (tar upload + indexing)", f"{conveyor['stage_s']:.1f} s"),
             ("Conveyor: submit -> exported", f"{conveyor['job_s']:.1f} s = {conveyor['images_per_s']:.1f} images/s"),
             ("Conveyor / bare loop (best)", f"{conveyor['images_per_s'] / limit:.2f}")]
    for name, peer in peers.items():
        rows += [(name, f"{peer['seconds']:.1f} s = {peer['images_per_s']:.1f} images/s "
                        f"({peer['detections']} detections)"),
                 (f"Conveyor / {name.split(' (')[0]}", f"{conveyor['images_per_s'] / peer['images_per_s']:.2f}")]
    report("throughput", rows, {
        "images": len(files), "bare_images_per_s": {k: v for k, (v, _) in bare.items()}, "limit_images_per_s": limit,
        "conveyor": conveyor, "ratio_to_bare": conveyor["images_per_s"] / limit, "peers": peers,
        "ratio_to_peers": {k: conveyor["images_per_s"] / p["images_per_s"] for k, p in peers.items()}})

if __name__ == "__main__":
    main()
