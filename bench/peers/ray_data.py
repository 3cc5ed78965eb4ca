"""Peer: Ray Data ``map_batches`` with the same ONNX model, decode, letterbox and NMS as Conveyor's worker.

Runs inside ``.venv-ray`` (``bench/peers/setup.sh``), started by ``bench.throughput``:

    .venv-ray/bin/python -m bench.peers.ray_data IMAGES_DIR MODEL.onnx OUT_DIR

The idiomatic Ray Data pipeline: ``read_binary_files`` -> ``map_batches`` over an actor pool (one actor per
core, one onnxruntime thread each, batches of 8 — the same lanes as a Conveyor CPU worker) -> ``write_json``.
Timed from the first read to the last result written; ``ray.init`` (starting the local cluster) is not
counted. Prints one JSON line.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import ray

from worker_svc.inference.detector import OnnxDetector


def decode(data: bytes) -> np.ndarray:
    """A full-size decode, as bench.common's (not imported: this environment has only what Ray needs)."""
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    assert image is not None, "not an image"
    return image


class Detect:
    def __init__(self, model: str, class_names: list[str]) -> None:
        self.detector = OnnxDetector(Path(model), class_names, input_size=416, threads=1, prefer_gpu=False)

    def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        images = [decode(b) for b in batch["bytes"]]
        found = self.detector.detect(images, confidence=0.35)
        return {"path": batch["path"], "count": np.array([len(d) for d in found]),
                "predictions": np.array([json.dumps(d) for d in found], dtype=object)}


def main() -> None:
    images, model, out = sys.argv[1], sys.argv[2], Path(sys.argv[3])
    class_names = json.loads(Path(model).with_suffix(".names.json").read_text())
    cpus = os.cpu_count() or 1
    ray.init(num_cpus=cpus, include_dashboard=False, log_to_driver=False)
    ray.data.DataContext.get_current().enable_progress_bars = False
    started = time.perf_counter()
    # the actors reserve half the logical CPUs, so reads (one CPU each) always find a slot: actors holding
    # every CPU stall the reads (the pipeline hangs); reads reserving none start dozens of workers
    ds = ray.data.read_binary_files(images, include_paths=True)
    ds = ds.map_batches(Detect, fn_constructor_args=(model, class_names), batch_size=8,
                        compute=ray.data.ActorPoolStrategy(size=cpus), num_cpus=0.5)
    ds.write_json(str(out))
    seconds = time.perf_counter() - started
    rows = [json.loads(line) for f in out.glob("*.json") for line in f.read_text().splitlines() if line.strip()]
    print(json.dumps({"seconds": seconds, "images": len(rows), "images_per_s": len(rows) / seconds,
                      "detections": int(sum(r["count"] for r in rows))}))
    if os.environ.get("RAY_BENCH_STATS"):
        print(ds.stats(), file=sys.stderr)
    ray.shutdown()


if __name__ == "__main__":
    main()
