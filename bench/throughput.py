"""Throughput: the bare model loop (this machine's limit) against the same images as a Conveyor image job.

    .venv/bin/python -m bench.throughput [--images 500] [--threads N]

The bare loop is one process doing what a worker must do per image — JPEG decode, letterbox, onnxruntime
YOLOv4-tiny@416, NMS — with onnxruntime's threads, nothing else. The Conveyor run stages the same files as
a tar (bulk upload + background indexing), then times submit -> job succeeded, which includes the processing
stage (Kafka task events, S3 reads, per-task results) and the export stage (archives). Images/s of both and
their ratio are printed and written to bench/results/throughput.json.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import cv2
import numpy as np

from bench.common import TAR_LIMIT, real_images, report, running_conveyor, tar_of, wait_job
from shared.cli.client import ConveyorClient
from shared.cli.demo import detector_workflow
from shared.config import ServiceSettings
from shared.models.default import ensure_default_model
from shared.models.detector import OnnxDetector


def bare_loop(files: list[Path], threads: int | None, batch: int) -> tuple[float, int]:
    model = ensure_default_model(ServiceSettings().cache_dir / "models")
    detector = OnnxDetector(model.onnx_path, model.class_names, input_size=model.input_size, threads=threads,
                            prefer_gpu=False)
    detector.detect([np.zeros((416, 416, 3), np.uint8)])  # warm-up: session initialisation is not throughput
    started, found = time.perf_counter(), 0
    for i in range(0, len(files), batch):
        images = [cv2.imdecode(np.frombuffer(f.read_bytes(), np.uint8), cv2.IMREAD_COLOR) for f in files[i:i + batch]]
        found += sum(len(d) for d in detector.detect(images, confidence=0.35))
    return len(files) / (time.perf_counter() - started), found


def conveyor_job(files: list[Path], threads: int | None, worker_env: dict[str, str]) -> dict[str, float]:
    env = {"WORKER_ORT_THREADS": str(threads or 0), **worker_env}
    with running_conveyor(**env) as (base, key):
        client = ConveyorClient(base, key)
        try:
            workflow = detector_workflow()
            workflow["steps"] = workflow["steps"][:2]  # detection + count, as the bare loop does
            workflow["outputs"] = workflow["outputs"][:2]
            client.put_workflow("bench-detect", workflow)
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
    parser.add_argument("--conveyor-only", action="store_true", help="only the Conveyor run (tuning)")
    args = parser.parse_args()
    files = real_images(args.images)
    threads = args.threads or None
    worker_env = dict(kv.split("=", 1) for kv in args.worker)
    if args.conveyor_only:
        print(conveyor_job(files, threads, worker_env))
        return
    bare_1, detections = bare_loop(files, threads, batch=1)
    bare_8, _ = bare_loop(files, threads, batch=8)
    conveyor = conveyor_job(files, threads, worker_env)
    ratio = conveyor["images_per_s"] / bare_1
    rows = [("images", f"{len(files)} real photos/frames, 320-1600 px wide"),
            ("bare loop (batch 1)", f"{bare_1:.1f} images/s ({detections} detections)"),
            ("bare loop (batch 8)", f"{bare_8:.1f} images/s"),
            ("Conveyor: staging (tar upload + indexing)", f"{conveyor['stage_s']:.1f} s"),
            ("Conveyor: submit -> exported", f"{conveyor['job_s']:.1f} s = {conveyor['images_per_s']:.1f} images/s"),
            ("Conveyor / bare loop", f"{ratio:.2f}")]
    report("throughput", rows, {"images": len(files), "bare_images_per_s": bare_1, "bare_batch8_images_per_s": bare_8,
                                "conveyor": conveyor, "ratio_to_bare": ratio})


if __name__ == "__main__":
    main()
