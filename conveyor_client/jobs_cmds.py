"""``conveyor batch-processing ...``: the same commands as ``inference rf-cloud batch-processing``."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from conveyor_client.client import ConveyorClient
from conveyor_client.common import ApiKey, ApiUrl, JsonOut, api, command_group, console, emit, err
from shared.ids import random_suffix

jobs_app = command_group(help="Run workflows over staged batches and follow the jobs.")


def _body(kind: str, workspace: str, batch_id: str, workflow_id: str, *, params_file: Path | None,
          image_input_name: str | None, save_image_outputs: bool, image_outputs: list[str], machine_type: str | None,
          workers: int | None, max_runtime: int | None, max_parallel: int | None, failure_rate: float | None,
          aggregation: str | None, notifications_url: str | None, max_video_fps: float | None,
          metadata_part: str | None = None, metadata_mapping: list[str] | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {"type": "workflows-processing-specification-v1", "workspace": workspace,
                            "workflowId": workflow_id, "persistImagesOutputs": save_image_outputs}
    if params_file:
        spec["workflowParameters"] = json.loads(params_file.read_text())
    optional = {"imageInputName": image_input_name, "imagesOutputsToBePersisted": image_outputs or None,
                "aggregationFormat": aggregation, "maxVideoFPS": max_video_fps}
    spec |= {k: v for k, v in optional.items() if v is not None}
    if metadata_mapping:
        pairs = [m.split("=", 1) for m in metadata_mapping]
        if any(len(p) != 2 or not p[0] or not p[1] for p in pairs):
            err.print("[red]--metadata-mapping takes workflow_input=metadata_key[/]")
            raise typer.Exit(2)
        spec["imagesMetadataInputsMapping"] = dict(pairs)
    compute = {"type": "compute-configuration-v2", "machineType": machine_type, "workersPerMachine": workers}
    job_input = {"type": "staging-batch-input-v1", "batchId": batch_id}
    if metadata_part:
        job_input["imagesMetadataPart"] = metadata_part
    body = {"type": kind, "jobInput": job_input,
            "computeConfiguration": {k: v for k, v in compute.items() if v is not None},
            "processingSpecification": spec, "processingTimeoutSeconds": max_runtime,
            "maxParallelTasks": max_parallel, "maxImageFailureRate": failure_rate,
            "notificationsURL": notifications_url}
    return {k: v for k, v in body.items() if v is not None}


def watch(client: ConveyorClient, job_id: str) -> dict[str, Any]:
    """Follow a job until it is terminal, with a progress bar and ETA."""
    with Progress(TextColumn(job_id), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                  TextColumn("{task.fields[state]}"), TimeElapsedColumn(), TimeRemainingColumn(),
                  console=console) as progress:
        bar = progress.add_task(job_id, total=1.0, state="")
        while True:
            job = client.job(job_id)
            progress.update(bar, completed=job["progress"], state=job["state"])
            if job["isTerminal"]:
                return job
            time.sleep(1.0)


def _submit(kind: str, batch_id: str, workflow_id: str, job_id: str | None, job_name: str | None, wait: bool,
            api_key: str | None, api_url: str | None, **options: Any) -> None:
    job_id = job_id or f"job-{random_suffix(12)}"
    with api(api_key, api_url) as client:
        client.create_job(job_id, _body(kind, client.workspace, batch_id, workflow_id, **options), job_name)
        console.print(f"job {job_id} started")
        if wait:
            job = watch(client, job_id)
            console.print(f"job {job_id} {job['state']}" + (f": {job['reason']}" if job.get("reason") else ""))
            if job["state"] != "succeeded":
                raise typer.Exit(1)


_COMMON = dict(
    batch_id=typer.Option(..., "--batch-id", "-b"), workflow_id=typer.Option(..., "--workflow-id", "-w"),
    workflow_params=typer.Option(None, "--workflow-params", help="JSON file of workflow parameters"),
    image_input_name=typer.Option(None, "--image-input-name"),
    save_image_outputs=typer.Option(False, "--save-image-outputs/--no-save-image-outputs"),
    image_outputs_to_save=typer.Option([], "--image-outputs-to-save"),
    machine_type=typer.Option(None, "--machine-type", "-mt", help="cpu or gpu"),
    workers_per_machine=typer.Option(None, "--workers-per-machine"),
    max_runtime_seconds=typer.Option(None, "--max-runtime-seconds", help="cumulative runtime of all workers"),
    max_parallel_tasks=typer.Option(None, "--max-parallel-tasks"),
    aggregation_format=typer.Option(None, "--aggregation-format", help="jsonl or csv"),
    job_id=typer.Option(None, "--job-id", "-j"), job_name=typer.Option(None, "--job-name", "-jn"),
    notifications_url=typer.Option(None, "--notifications-url"),
    wait=typer.Option(False, "--watch", help="follow the job until it ends"),
)


@jobs_app.command("process-images-with-workflow")
def process_images(
    batch_id: str = _COMMON["batch_id"], workflow_id: str = _COMMON["workflow_id"],
    workflow_params: Path | None = _COMMON["workflow_params"],
    image_input_name: str | None = _COMMON["image_input_name"],
    save_image_outputs: bool = _COMMON["save_image_outputs"],
    image_outputs_to_save: list[str] = _COMMON["image_outputs_to_save"],
    machine_type: str | None = _COMMON["machine_type"],
    workers_per_machine: int | None = _COMMON["workers_per_machine"],
    max_runtime_seconds: int | None = _COMMON["max_runtime_seconds"],
    max_parallel_tasks: int | None = _COMMON["max_parallel_tasks"],
    max_image_failure_rate: float | None = typer.Option(None, "--max-image-failure-rate"),
    images_metadata_part: str | None = typer.Option(
        None, "--images-metadata-part-name", "-imp", help="metadata part of the batch (upload-metadata)"),
    metadata_mapping: list[str] = typer.Option(
        [], "--metadata-mapping", "-mm", help="workflow_input=metadata_key, repeatable"),
    aggregation_format: str | None = _COMMON["aggregation_format"], job_id: str | None = _COMMON["job_id"],
    job_name: str | None = _COMMON["job_name"], notifications_url: str | None = _COMMON["notifications_url"],
    wait: bool = _COMMON["wait"], api_key: str | None = ApiKey, api_url: str | None = ApiUrl,
) -> None:
    """Run a workflow over every image of a staged batch."""
    _submit("simple-image-processing-v1", batch_id, workflow_id, job_id, job_name, wait, api_key, api_url,
            params_file=workflow_params, image_input_name=image_input_name, save_image_outputs=save_image_outputs,
            image_outputs=image_outputs_to_save, machine_type=machine_type, workers=workers_per_machine,
            max_runtime=max_runtime_seconds, max_parallel=max_parallel_tasks, failure_rate=max_image_failure_rate,
            aggregation=aggregation_format, notifications_url=notifications_url, max_video_fps=None,
            metadata_part=images_metadata_part, metadata_mapping=metadata_mapping)


@jobs_app.command("process-videos-with-workflow")
def process_videos(
    batch_id: str = _COMMON["batch_id"], workflow_id: str = _COMMON["workflow_id"],
    workflow_params: Path | None = _COMMON["workflow_params"],
    image_input_name: str | None = _COMMON["image_input_name"],
    save_image_outputs: bool = _COMMON["save_image_outputs"],
    image_outputs_to_save: list[str] = _COMMON["image_outputs_to_save"],
    machine_type: str | None = _COMMON["machine_type"],
    workers_per_machine: int | None = _COMMON["workers_per_machine"],
    max_runtime_seconds: int | None = _COMMON["max_runtime_seconds"],
    max_parallel_tasks: int | None = _COMMON["max_parallel_tasks"],
    max_video_fps: float | None = typer.Option(None, "--max-video-fps"),
    aggregation_format: str | None = _COMMON["aggregation_format"], job_id: str | None = _COMMON["job_id"],
    job_name: str | None = _COMMON["job_name"], notifications_url: str | None = _COMMON["notifications_url"],
    wait: bool = _COMMON["wait"], api_key: str | None = ApiKey, api_url: str | None = ApiUrl,
) -> None:
    """Run a workflow over the frames of every video of a staged batch (optionally sub-sampled)."""
    _submit("simple-video-processing-v1", batch_id, workflow_id, job_id, job_name, wait, api_key, api_url,
            params_file=workflow_params, image_input_name=image_input_name, save_image_outputs=save_image_outputs,
            image_outputs=image_outputs_to_save, machine_type=machine_type, workers=workers_per_machine,
            max_runtime=max_runtime_seconds, max_parallel=max_parallel_tasks, failure_rate=None,
            aggregation=aggregation_format, notifications_url=notifications_url, max_video_fps=max_video_fps)


@jobs_app.command("estimate")
def estimate(
    batch_id: str = _COMMON["batch_id"], workflow_id: str = _COMMON["workflow_id"],
    videos: bool = typer.Option(False, "--videos", help="a video job (the batch holds videos)"),
    workflow_params: Path | None = _COMMON["workflow_params"],
    image_input_name: str | None = _COMMON["image_input_name"],
    save_image_outputs: bool = _COMMON["save_image_outputs"],
    image_outputs_to_save: list[str] = _COMMON["image_outputs_to_save"],
    machine_type: str | None = _COMMON["machine_type"],
    workers_per_machine: int | None = _COMMON["workers_per_machine"],
    max_parallel_tasks: int | None = _COMMON["max_parallel_tasks"],
    max_video_fps: float | None = typer.Option(None, "--max-video-fps"),
    aggregation_format: str | None = _COMMON["aggregation_format"],
    api_key: str | None = ApiKey, api_url: str | None = ApiUrl, as_json: bool = JsonOut,
) -> None:
    """Predict a job's runtime, machine-hours, cost, failures and output size by running a sample of its batch
    (a small real job, billed, its results not kept)."""
    body = _body("simple-video-processing-v1" if videos else "simple-image-processing-v1", "", batch_id,
                 workflow_id, params_file=workflow_params, image_input_name=image_input_name,
                 save_image_outputs=save_image_outputs, image_outputs=image_outputs_to_save,
                 machine_type=machine_type, workers=workers_per_machine, max_runtime=None,
                 max_parallel=max_parallel_tasks, failure_rate=None, aggregation=aggregation_format,
                 notifications_url=None, max_video_fps=max_video_fps)
    with api(api_key, api_url) as client:
        body["processingSpecification"]["workspace"] = client.workspace
        with console.status(f"running a sample of {batch_id}"):
            answer = client.estimate_job(body)
    emit(answer, as_json, _render_estimate)


def _render_estimate(e: dict[str, Any]) -> None:
    def span(fig: dict[str, Any], fmt: str) -> str:
        if fig["low"] is None:
            return format(fig["value"], fmt)
        return f"{format(fig['value'], fmt)}  ({format(fig['low'], fmt)} to {format(fig['high'], fmt)})"

    sample = e["sample"]
    what = f"{e['files']} files" + (f", {e['videoSeconds']:.0f} s of video" if e.get("videoSeconds") else "")
    console.print(f"{what} in {e['tasks']} tasks, {e['parallelTasks']} at once on {e['machineType']}; "
                  f"from a sample of {sample['files']} files in {sample['tasks']} tasks (job {e['estimateJobId']})")
    table = Table("figure", "estimate (95 % interval)")
    table.add_row("runtime, all workers (s)", span(e["runtimeSeconds"], ".1f"))
    table.add_row("machine-hours", span(e["machineHours"], ".4f"))
    if e["cost"]:
        table.add_row(f"cost ({e['cost']['unit']})", span(e["cost"], ".4f"))
    table.add_row("processing wall time (s)", span(e["processingWallSeconds"], ".1f"))
    table.add_row("failure rate", span(e["failureRate"], ".1%"))
    table.add_row("output (MB)", span({k: v / 1e6 if v is not None else None for k, v in e["outputBytes"].items()},
                                      ".2f"))
    table.add_row("recommended --max-runtime-seconds", str(e["recommendedProcessingTimeoutSeconds"]))
    console.print(table)


@jobs_app.command("show-job-details")
def show_job_details(job_id: str = typer.Option(..., "--job-id", "-j"), api_key: str | None = ApiKey,
                     api_url: str | None = ApiUrl, as_json: bool = JsonOut,
                     wait: bool = typer.Option(False, "--watch", help="follow the job until it ends")) -> None:
    with api(api_key, api_url) as client:
        job = watch(client, job_id) if wait else client.job(job_id)
        stages = client.stages(job_id)
        for stage in stages:
            stage["tasks"] = client.tasks(job_id, stage["processingStageId"])

    def render(j: dict[str, Any]) -> None:
        table = Table(show_header=False, title=f"job {job_id}")
        for key in ("name", "state", "reason", "progress", "runtimeSeconds", "billedMachineHours", "createdAt",
                    "lastUpdate"):
            table.add_row(key, str(j.get(key)))
        console.print(table)
        stage_table = Table("stage", "status", "tasks", "done", "failed", "output batch")
        for s in stages:
            done = sum(t["statusType"] == "success" for t in s["tasks"])
            failed = sum(t["statusType"] == "error" for t in s["tasks"])
            stage_table.add_row(s["processingStageId"], s["statusType"], str(s["tasksNumber"]), str(done),
                                str(failed), ", ".join(s["outputBatches"]))
        console.print(stage_table)

    emit({"job": job, "stages": stages}, as_json, lambda d: render(d["job"]))


@jobs_app.command("list-jobs")
def list_jobs(max_pages: int = typer.Option(1, "--max-pages", "-p"),
              search: str | None = typer.Option(
                  None, "--search", "-s", help="jobs whose id, name or workflow id contains it, or in that state"),
              api_key: str | None = ApiKey, api_url: str | None = ApiUrl, as_json: bool = JsonOut) -> None:
    """The workspace's jobs, newest first."""
    with api(api_key, api_url) as client:
        jobs = client.list_jobs(max_pages, search=search)

    def render(items: list[dict[str, Any]]) -> None:
        table = Table("job id", "name", "state", "progress", "runtime s", "created")
        for j in items:
            table.add_row(j["jobId"], j["name"], j["state"], f"{j['progress']:.0%}", f"{j['runtimeSeconds']:.1f}",
                          j["createdAt"][:19])
        console.print(table)

    emit(jobs, as_json, render)


@jobs_app.command("abort-job")
def abort_job(job_id: str = typer.Option(..., "--job-id", "-j"), api_key: str | None = ApiKey,
              api_url: str | None = ApiUrl) -> None:
    with api(api_key, api_url) as client:
        console.print(client.abort(job_id)["message"])


@jobs_app.command("restart-job")
def restart_job(job_id: str = typer.Option(..., "--job-id", "-j"),
                machine_type: str | None = typer.Option(None, "--machine-type", "-mt"),
                workers_per_machine: int | None = typer.Option(None, "--workers-per-machine"),
                max_runtime_seconds: int | None = typer.Option(None, "--max-runtime-seconds"),
                max_parallel_tasks: int | None = typer.Option(None, "--max-parallel-tasks"),
                max_image_failure_rate: float | None = typer.Option(None, "--max-image-failure-rate"),
                api_key: str | None = ApiKey, api_url: str | None = ApiUrl) -> None:
    """Restart a failed or aborted job; tasks that finished are not run again."""
    compute = {k: v for k, v in {"machineType": machine_type, "workersPerMachine": workers_per_machine}.items() if v}
    override = {"type": "parameters-override-v1", "maxParallelTasks": max_parallel_tasks,
                "processingTimeoutSeconds": max_runtime_seconds, "maxImageFailureRate": max_image_failure_rate,
                "computeConfiguration": {"type": "compute-configuration-v2", **compute} if compute else None}
    with api(api_key, api_url) as client:
        console.print(client.restart(job_id, {k: v for k, v in override.items() if v is not None})["message"])


@jobs_app.command("fetch-logs")
def fetch_logs(job_id: str = typer.Option(..., "--job-id", "-j"),
               log_severity: str | None = typer.Option(None, "--log-severity", help="info, warning or error"),
               output_file: Path | None = typer.Option(None, "--output-file", "-o"), api_key: str | None = ApiKey,
               api_url: str | None = ApiUrl) -> None:
    with api(api_key, api_url) as client:
        logs = client.logs(job_id, log_severity)
    if output_file:
        output_file.write_text("".join(json.dumps(entry) + "\n" for entry in logs))
        console.print(f"{len(logs)} log entries written to {output_file}")
        return
    for entry in logs:
        console.print(f"{entry['createdAt'][:19]} {entry['severity']:<7} {entry['logType']:<16} "
                      f"{entry.get('taskId') or '':<12} {json.dumps(entry['payload'])}")
    if not logs:
        err.print("no log entries")
