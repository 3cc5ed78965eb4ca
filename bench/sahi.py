"""SAHI on a 4K image: slices per second through the built-in executor, every slice of an image in one model call
against one call per slice, side by side in one run.

    .venv/bin/python -m bench.sahi [--repeats 5] [--slice 640] [--overlap 0.2] [--lanes 2]

The image is a 3840 x 2160 frame made of the sample photos; the workflow is Roboflow's SAHI pipeline
(``image_slicer@v2`` -> object detection on the slices -> ``detections_stitch`` with NMM) on the default
YOLOv4-tiny model, run by ``WorkflowRunner`` as a CPU worker runs it (its inference lanes and batch size). Per
mode: the median of ``--repeats`` runs and their spread; written to ``bench/results/sahi.json``.
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

import cv2
import numpy as np

from bench.common import report
from deploy.local.samples import ensure_samples
from scheduler_svc.default_model import ensure_default_model
from shared.config import ServiceSettings
from shared.workflows.compiler import compile_workflow
from worker_svc.config import WorkerSettings
from worker_svc.inference.detector import OnnxDetector
from worker_svc.models import LoadedModels
from worker_svc.workflows import blocks
from worker_svc.workflows.runner import WorkflowRunner
from worker_svc.workflows.sahi import slice_offsets

MODEL = "yolov4-tiny-coco"


def frame_4k() -> np.ndarray:
    photos = [img for p in ensure_samples(ServiceSettings().cache_dir).photos if (img := cv2.imread(str(p)))
              is not None]
    tiles = [cv2.resize(photos[i % len(photos)], (960, 1080)) for i in range(8)]
    return np.vstack([np.hstack(tiles[:4]), np.hstack(tiles[4:])])


def sahi_workflow(slice_side: int, overlap: float) -> dict[str, Any]:
    return {"version": "1.0", "inputs": [{"type": "WorkflowImage", "name": "image"}], "steps": [
        {"type": "roboflow_core/image_slicer@v2", "name": "slicer", "image": "$inputs.image",
         "slice_width": slice_side, "slice_height": slice_side, "overlap_ratio_width": overlap,
         "overlap_ratio_height": overlap},
        {"type": "roboflow_core/roboflow_object_detection_model@v2", "name": "model", "images": "$steps.slicer.slices",
         "model_id": MODEL, "confidence": 0.3},
        {"type": "roboflow_core/detections_stitch@v1", "name": "stitch", "reference_image": "$inputs.image",
         "predictions": "$steps.model.predictions", "overlap_filtering_strategy": "nmm", "iou_threshold": 0.4}],
        "outputs": [{"type": "JsonField", "name": "found", "selector": "$steps.stitch.predictions"}]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--slice", type=int, default=640)
    parser.add_argument("--overlap", type=float, default=0.2)
    parser.add_argument("--lanes", type=int, default=2)
    args = parser.parse_args()
    model = ensure_default_model(ServiceSettings().cache_dir)
    detector = OnnxDetector(model.onnx_path, model.class_names, input_size=model.input_size, threads=1)
    image = frame_4k()
    compiled = compile_workflow(sahi_workflow(args.slice, args.overlap))
    slices = len(slice_offsets(image.shape[1], image.shape[0], args.slice, args.slice, args.overlap,
                                           args.overlap, version=2))
    worker = WorkerSettings()
    detector.enable_batching(worker.batch, worker.batch_wait_ms / 1000, args.lanes)  # a CPU worker's lanes
    runner = WorkflowRunner(compiled, LoadedModels({MODEL: detector}), {})
    runner.run(image)  # warm-up: sessions allocate on their first run
    batched_step = blocks.BATCHED.pop("object_detection")  # restored below: one call per slice, the old way
    times: dict[str, list[float]] = {"one call per slice": [], "one call for all slices": []}
    found: dict[str, int] = {}
    try:
        for _ in range(args.repeats):
            for mode in times:
                if mode == "one call for all slices":
                    blocks.BATCHED["object_detection"] = batched_step
                else:
                    blocks.BATCHED.pop("object_detection", None)
                started = time.perf_counter()
                out = runner.run(image)
                times[mode].append(time.perf_counter() - started)
                found[mode] = len(out["found"].items)
    finally:
        blocks.BATCHED["object_detection"] = batched_step
        detector.close()
    rows, data = [("image", f"{image.shape[1]}x{image.shape[0]}, {slices} slices of {args.slice} px")], {}
    for mode, runs in times.items():
        median = statistics.median(runs)
        rows.append((mode, f"{slices / median:.1f} slices/s, {median:.2f} s per image "
                           f"(spread {min(runs):.2f}-{max(runs):.2f} s, {found[mode]} objects)"))
        data[mode] = {"seconds": runs, "median_s": median, "slices_per_s": slices / median,
                      "objects": found[mode]}
    ratio = statistics.median(times["one call per slice"]) / statistics.median(times["one call for all slices"])
    rows.append(("speed-up of one call", f"{ratio:.2f}x"))
    report("sahi", rows, {"slices": slices, "slice": args.slice, "overlap": args.overlap, "lanes": args.lanes,
                          "repeats": args.repeats, "modes": data, "ratio": ratio})


if __name__ == "__main__":
    main()
