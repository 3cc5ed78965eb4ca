"""How close ``POST .../jobs/estimate`` comes: estimate a job, then run it, for three workloads, side by side.

    .venv/bin/python -m bench.estimate [--images 500] [--sahi-images 120] [--videos 8]

Workloads, on a local Conveyor (``conveyor up``'s processes, this machine's CPU workers):
* detector: YOLOv4-tiny over ``--images`` real photos of 320-1600 px;
* SAHI: Roboflow's slicer -> detector -> stitch pipeline over ``--sahi-images`` 2560 x 1440 frames;
* video: the detector over ``--videos`` street videos of 20 to 90 s, sub-sampled to 5 FPS.
For each: ``--repeats`` estimates (and how long each took to answer), then as many runs of the real job; the
median estimate (by runtime) against the median run, for the cumulative runtime, the machine-hours billed, the
processing stage's wall time, the failure rate and the output bytes, with the spread of each and whether the run's
figure fell in the estimate's 95 % interval. Written to bench/results/estimate.json.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from bench.common import DATA, RESULTS, TAR_LIMIT, real_images, report, running_conveyor, tar_of, wait_job
from bench.sahi import frame_4k, sahi_workflow
from conveyor_client.client import ConveyorClient
from deploy.local.samples import ensure_samples
from shared.config import ServiceSettings

DETECT = {"version": "1.0", "inputs": [{"type": "WorkflowImage", "name": "image"}], "steps": [
    {"type": "roboflow_core/roboflow_object_detection_model@v2", "name": "model", "images": "$inputs.image",
     "model_id": "yolov4-tiny-coco", "confidence": 0.3}],
    "outputs": [{"type": "JsonField", "name": "predictions", "selector": "$steps.model.predictions"}]}
RESULT = RESULTS / "estimate.json"
FIGURES = (("runtime s", "runtimeSeconds"), ("machine-hours", "machineHours"),
           ("processing wall s", "processingWallSeconds"), ("failure rate", "failureRate"),
           ("output bytes", "outputBytes"))


def _written_once(folder: str, pattern: str, count: int, write: Callable[[Path], None]) -> list[Path]:
    """The ``count`` files of ``bench/.data/<folder>``, written by ``write`` the first time."""
    target = DATA / folder
    if len(files := sorted(target.glob(pattern))) != count:
        target.mkdir(parents=True, exist_ok=True)
        write(target)
        files = sorted(target.glob(pattern))
    return files


def sahi_images(count: int) -> list[Path]:
    """2560 x 1440 frames made of the sample photos, each shifted differently."""
    def write(target: Path) -> None:
        base = cv2.resize(frame_4k(), (2560, 1440))
        for i in range(count):
            cv2.imwrite(str(target / f"sahi-{i:04d}.jpg"), np.roll(base, i * 97, axis=1),
                        [cv2.IMWRITE_JPEG_QUALITY, 90])

    return _written_once(f"sahi-{count}", "*.jpg", count, write)


def street_videos(count: int) -> list[Path]:
    """``count`` videos of 20 to 90 s, the sample street footage looped at 640 x 272, 25 FPS."""
    def write(target: Path) -> None:
        frames: list[np.ndarray] = []
        for video in ensure_samples(ServiceSettings().cache_dir).videos:
            capture = cv2.VideoCapture(str(video))
            while (read := capture.read())[0]:
                frames.append(cv2.resize(read[1], (640, 272)))
            capture.release()
        for i in range(count):
            seconds = 20 + (i * 70) // max(count - 1, 1)
            writer = cv2.VideoWriter(str(target / f"street-{i:02d}.mp4"), cv2.VideoWriter.fourcc(*"mp4v"), 25,
                                     (640, 272))
            for n in range(seconds * 25):
                writer.write(frames[(n + i * 40) % len(frames)])
            writer.release()

    return _written_once(f"videos-{count}", "*.mp4", count, write)


def stage_images(client: ConveyorClient, batch: str, files: list[Path]) -> None:
    for i in range(0, len(files), TAR_LIMIT):
        client.tar_upload(batch, tar_of(files[i:i + TAR_LIMIT]))
    while client.count(batch) < len(files):
        time.sleep(0.2)


def stage_videos(client: ConveyorClient, batch: str, files: list[Path]) -> None:
    for path in files:
        client.upload_video(batch, path)
    while client.count(batch) < len(files):
        time.sleep(0.2)


def body(workspace: str, batch: str, workflow: str, *, videos: bool = False) -> dict[str, Any]:
    spec: dict[str, Any] = {"type": "workflows-processing-specification-v1", "workspace": workspace,
                            "workflowId": workflow}
    if videos:
        spec["maxVideoFPS"] = 5
    return {"type": "simple-video-processing-v1" if videos else "simple-image-processing-v1",
            "jobInput": {"type": "staging-batch-input-v1", "batchId": batch},
            "computeConfiguration": {"type": "compute-configuration-v2", "machineType": "cpu"},
            "processingSpecification": spec}


def actual(client: ConveyorClient, job_id: str) -> dict[str, float]:
    """The run's own figures, as its API shows them."""
    job = wait_job(client, job_id)
    assert job["state"] == "succeeded", job
    processing = next(s for s in client.stages(job_id) if s["processingStageId"] == "processing")
    wall = (datetime.fromisoformat(processing["lastEventTimestamp"])
            - datetime.fromisoformat(processing["startTimestamp"])).total_seconds()
    tasks = client.tasks(job_id, "processing")
    files = sum(t["notification"]["filesProcessed"] + t["notification"]["filesFailed"] for t in tasks)
    failed = sum(t["notification"]["filesFailed"] for t in tasks)
    return {"runtimeSeconds": job["runtimeSeconds"], "machineHours": sum(job["billedMachineHours"].values()),
            "processingWallSeconds": wall, "failureRate": failed / files if files else 0.0,
            "outputBytes": float(sum(t["notification"].get("outputBytes", 0) for t in tasks))}


def _median_by(items: list[dict[str, Any]], key: Callable[[dict[str, Any]], float]) -> dict[str, Any]:
    """The item whose ``key`` is the median (the lower one of an even count): one coherent estimate or run."""
    return sorted(items, key=key)[(len(items) - 1) // 2]


def compare(name: str, estimates: list[dict[str, Any]], runs: list[dict[str, float]],
            answered: list[float]) -> tuple[list[tuple[str, str]], dict[str, Any]]:
    """The median estimate (by runtime) against the median run, figure by figure, with both spreads."""
    est = _median_by(estimates, lambda e: e["runtimeSeconds"]["value"])
    rows, data = [], {"answered_s": answered, "sample": est["sample"], "files": est["files"],
                      "tasks": est["tasks"], "figures": {}}
    rows.append((f"{name}", f"{est['files']} files, {est['tasks']} tasks; {len(estimates)} estimates answered in "
                            f"{min(answered):.1f}-{max(answered):.1f} s, each from {est['sample']['files']} files in "
                            f"{est['sample']['tasks']} tasks; {len(runs)} runs"))
    for label, key in FIGURES:
        fig = est[key]
        predicted = [e[key]["value"] for e in estimates]
        actual = [r[key] for r in runs]
        real = statistics.median(actual)
        error = (fig["value"] - real) / real if real else None
        inside = None if fig["low"] is None else fig["low"] <= real <= fig["high"]
        shown = f"{error:+.1%}" if error is not None else "n/a"
        where = "" if inside is None else ", in the interval" if inside else ", outside the interval"
        rows.append((f"  {label}", f"predicted {fig['value']:.4g} ({_g(fig['low'])} to {_g(fig['high'])}; "
                                   f"estimates {_g(min(predicted))}-{_g(max(predicted))}), actual {real:.4g} "
                                   f"(runs {_g(min(actual))}-{_g(max(actual))}): {shown}{where}"))
        data["figures"][key] = {"predicted": fig, "estimates": predicted, "actual": real, "runs": actual,
                                "error": error, "in_interval": inside}
    return rows, data


def _g(x: float | None) -> str:
    return "-" if x is None else f"{x:.4g}"


def markdown(results: dict[str, Any]) -> str:
    """The README's table: per workload and figure, predicted (95 % interval) against the run."""
    lines = ["| workload | figure | predicted (95 % interval), median estimate | actual, median run (spread) | "
             "error |", "|---|---|---|---|---|"]
    for name, data in results["workloads"].items():
        sample = data["sample"]
        answered = data["answered_s"]
        lines.append(f"| **{name}**: {data['files']} files, {data['tasks']} tasks | sample | {sample['files']} files "
                     f"in {sample['tasks']} tasks, answered in {min(answered):.1f}-{max(answered):.1f} s | | |")
        for label, key in FIGURES:
            fig = data["figures"][key]
            p = fig["predicted"]
            interval = "" if p["low"] is None else f" ({_g(p['low'])} to {_g(p['high'])})"
            error = "" if fig["error"] is None else f"{fig['error']:+.0%}"
            lines.append(f"| | {label} | {_g(p['value'])}{interval} | {_g(fig['actual'])} "
                         f"({_g(min(fig['runs']))}-{_g(max(fig['runs']))}) | {error} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=500)
    parser.add_argument("--sahi-images", type=int, default=120)
    parser.add_argument("--videos", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=3, help="estimates, and runs, of each workload")
    args = parser.parse_args()
    stamp = int(time.time()) % 100_000  # the bench's home keeps earlier runs' batches and jobs
    workloads: list[tuple[str, str, dict[str, Any], Callable[[ConveyorClient, str], None], bool]] = [
        ("detector", "est-detect", DETECT, lambda c, b: stage_images(c, b, real_images(args.images)), False),
        ("sahi", "est-sahi", sahi_workflow(640, 0.2), lambda c, b: stage_images(c, b, sahi_images(args.sahi_images)),
         False),
        ("video", "est-detect", DETECT, lambda c, b: stage_videos(c, b, street_videos(args.videos)), True),
    ]
    rows: list[tuple[str, str]] = []
    results: dict[str, Any] = {}
    with running_conveyor() as (url, key):
        client = ConveyorClient(url, key)
        for name, workflow, spec, stage, videos in workloads:
            batch = f"est-{name}-{stamp}"
            stage(client, batch)
            client.put_workflow(workflow, spec)
            estimates, answered, runs = [], [], []
            for _ in range(args.repeats):
                started = time.perf_counter()
                estimates.append(client.estimate_job(body(client.workspace, batch, workflow, videos=videos)))
                answered.append(time.perf_counter() - started)
            for i in range(args.repeats):
                job_id = f"run-{name[:5]}-{stamp}-{i}"
                client.create_job(job_id, body(client.workspace, batch, workflow, videos=videos))
                runs.append(actual(client, job_id))
            part_rows, data = compare(name, estimates, runs, answered)
            rows += part_rows
            results[name] = data
    report("estimate", rows, {"workloads": results, "images": args.images, "sahi_images": args.sahi_images,
                              "videos": args.videos, "repeats": args.repeats})


if __name__ == "__main__":
    main()
