"""``conveyor demo``: the README's main command — the whole product on real sample media.

Starts the stack and every service, stages real photos and street videos, runs an image job and a video
job with the default COCO detector workflow through Kafka, exports the results and prints a summary.
"""

from __future__ import annotations

import json
import tarfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from conveyor_client.client import ConveyorClient
from deploy.local.home import local_stack
from deploy.local.processes import bring_up, public_url, stop_services
from deploy.local.samples import ensure_samples
from scheduler_svc.default_model import DEFAULT_MODEL_ID
from shared.config import ServiceSettings

console = Console()
WORKFLOW_ID = "coco-detector"


def detector_workflow() -> dict[str, Any]:
    """The default workflow: COCO detection, per-image counts, and a box visualisation."""
    return {
        "version": "1.0",
        "inputs": [{"type": "WorkflowImage", "name": "image"},
                   {"type": "WorkflowParameter", "name": "confidence", "default_value": 0.35}],
        "steps": [
            {"type": "roboflow_core/roboflow_object_detection_model@v2", "name": "detector",
             "images": "$inputs.image", "model_id": DEFAULT_MODEL_ID, "confidence": "$inputs.confidence"},
            {"type": "roboflow_core/property_definition@v1", "name": "count",
             "data": "$steps.detector.predictions", "operations": [{"type": "SequenceLength"}]},
            {"type": "roboflow_core/bounding_box_visualization@v1", "name": "boxes", "image": "$inputs.image",
             "predictions": "$steps.detector.predictions"},
            {"type": "roboflow_core/label_visualization@v1", "name": "labels", "image": "$steps.boxes.image",
             "predictions": "$steps.detector.predictions"},
        ],
        "outputs": [{"type": "JsonField", "name": "predictions", "selector": "$steps.detector.predictions"},
                    {"type": "JsonField", "name": "count", "selector": "$steps.count.output"},
                    {"type": "JsonField", "name": "visualization", "selector": "$steps.labels.image"}],
    }


def _job_body(workspace: str, batch_id: str, *, videos: bool) -> dict[str, Any]:
    spec: dict[str, Any] = {"type": "workflows-processing-specification-v1", "workspace": workspace,
                            "workflowId": WORKFLOW_ID, "aggregationFormat": "jsonl"}
    if videos:
        spec |= {"persistImagesOutputs": False, "maxVideoFPS": 2}
    else:
        spec |= {"persistImagesOutputs": True, "imagesOutputsToBePersisted": ["visualization"]}
    return {"type": "simple-video-processing-v1" if videos else "simple-image-processing-v1",
            "jobInput": {"type": "staging-batch-input-v1", "batchId": batch_id},
            "computeConfiguration": {"type": "compute-configuration-v2", "machineType": "cpu"},
            "processingTimeoutSeconds": 600, "processingSpecification": spec}


def _watch(client: ConveyorClient, job_ids: list[str]) -> dict[str, dict[str, Any]]:
    done: dict[str, dict[str, Any]] = {}
    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                  TextColumn("{task.fields[state]}"), TimeElapsedColumn(), console=console) as progress:
        bars = {j: progress.add_task(j, total=1.0, state="processing") for j in job_ids}
        while len(done) < len(job_ids):
            for job_id in job_ids:
                if job_id in done:
                    continue
                job = client.job(job_id)
                progress.update(bars[job_id], completed=job["progress"], state=job["state"])
                if job["isTerminal"]:
                    done[job_id] = job
            time.sleep(0.5)
    return done


def _export(client: ConveyorClient, job_id: str, target: Path) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    for meta in client.files(f"{job_id}-export", "archives"):
        archive = client.download(meta["downloadURL"], target / meta["fileName"])
        with tarfile.open(archive) as tar:
            tar.extractall(target, filter="data")
        archive.unlink()
    for results in sorted(target.rglob("results-*.jsonl")):
        records += [json.loads(line) for line in results.read_text().splitlines() if line.strip()]
    return records


def demo_cmd(
    keep_running: bool = typer.Option(False, help="leave the stack and services running afterwards"),
    workspace: str = typer.Option("local"),
    output: Path = typer.Option(Path("demo-output"), help="where exported results are written"),
) -> None:
    """Run the whole product on real sample photos and videos, end to end."""
    started = time.monotonic()
    samples = ensure_samples(ServiceSettings().cache_dir)
    started_stack, key, _ = bring_up(workspace, "s3")
    client = ConveyorClient(public_url(), key)
    run = time.strftime("%Y%m%d-%H%M%S").lower()
    try:
        client.put_workflow(WORKFLOW_ID, detector_workflow())
        photos_batch, videos_batch = f"demo-photos-{run}", f"demo-videos-{run}"
        with console.status("staging sample photos and videos"):
            for photo in samples.photos:
                client.upload_image(photos_batch, photo, display_name="Demo photos")
            for video in samples.videos:
                client.upload_video(videos_batch, video)
        console.print(f"staged {len(samples.photos)} photos into {photos_batch}, "
                      f"{len(samples.videos)} videos into {videos_batch}")
        image_job, video_job = f"img-{run[-13:]}", f"vid-{run[-13:]}"
        client.create_job(image_job, _job_body(client.workspace, photos_batch, videos=False), "Demo: photos")
        client.create_job(video_job, _job_body(client.workspace, videos_batch, videos=True), "Demo: videos")
        jobs = _watch(client, [image_job, video_job])
        rows: dict[str, list[str]] = {k: [] for k in ("state", "input files", "result records", "detections",
                                                      "runtime (s)", "billed machine-hours", "results in")}
        for job_id, job in jobs.items():
            values = {"state": job["state"], "detections": job.get("reason") or ""}
            if job["state"] == "succeeded":
                target = output / job_id
                records = _export(client, job_id, target)
                classes = Counter(d["class"] for r in records for d in r["predictions"]["predictions"])
                values = {
                    "state": "[green]succeeded[/]",
                    "input files": str(len({r.get("image") or r.get("video") for r in records})),
                    "result records": str(len(records)),
                    "detections": ", ".join(f"{c} {n}" for c, n in classes.most_common(8)),
                    "runtime (s)": f"{job['runtimeSeconds']:.1f}",
                    "billed machine-hours": f"{sum(job['billedMachineHours'].values()):.4f}",
                    "results in": str(target),
                }
            for field, column in rows.items():
                column.append(values.get(field, ""))
        table = Table("", *(f"{j}\n({jobs[j]['name']})" for j in jobs), title="Conveyor demo", show_lines=True)
        for field, column in rows.items():
            table.add_row(field, *column)
        console.print(table)
        console.print(f"demo finished in {time.monotonic() - started:.0f}s; API_BASE_URL={public_url()} "
                      f"api_key={key}")
        if any(j["state"] != "succeeded" for j in jobs.values()):
            raise typer.Exit(1)
    finally:
        client.close()
        if not keep_running:
            stop_services()
            if started_stack:
                local_stack().stop()
