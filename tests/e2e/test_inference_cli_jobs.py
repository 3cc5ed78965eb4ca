"""The real inference-cli (``inference rf-cloud batch-processing ...``) against Conveyor, unchanged."""

import json
import time
from pathlib import Path

import httpx
import pytest

from tests.fixtures.deployment import Deployment, workers_paused
from tests.fixtures.media import jpeg, mp4, mp4_of, photo
from tests.fixtures.onnx_models import bright_box_detector, crossing_square
from tests.fixtures.rfcli import api_get, rf, wait_count
from tests.fixtures.workflows import detect_workflow


def _job(dep: Deployment, job_id: str) -> dict:
    return api_get(dep, f"/batch-processing/v1/external/{dep.workspace}/jobs/{job_id}").json()["job"]


def _wait_job(dep: Deployment, job_id: str, states: tuple[str, ...] = ("succeeded", "failed", "aborted"),
              timeout: float = 180) -> dict:
    deadline = time.monotonic() + timeout
    job = _job(dep, job_id)
    while job["state"] not in states and time.monotonic() < deadline:
        time.sleep(0.5)
        job = _job(dep, job_id)
    return job


@pytest.fixture(scope="module")
def staged(inference_cli: Path, deployment: Deployment, tmp_path_factory: pytest.TempPathFactory) -> dict[str, int]:
    photos = tmp_path_factory.mktemp("photos")
    (photos / "bus.jpg").write_bytes(photo("bus.jpg"))
    (photos / "zidane.jpg").write_bytes(photo("zidane.jpg"))
    for i in range(6):
        (photos / f"noise-{i}.jpg").write_bytes(jpeg(i))
    many = tmp_path_factory.mktemp("many")
    for i in range(40):
        (many / f"m-{i:03d}.jpg").write_bytes(jpeg(200 + i, size=(320, 320)))
    videos = tmp_path_factory.mktemp("videos")
    (videos / "clip.mp4").write_bytes(mp4(frames=20))
    for args in (("create-batch-of-images", "--images-dir", str(photos), "--batch-id", "photos"),
                 ("create-batch-of-images", "--images-dir", str(many), "--batch-id", "many"),
                 ("create-batch-of-videos", "--videos-dir", str(videos), "--batch-id", "clips")):
        result = rf(inference_cli, deployment, "data-staging", *args)
        assert result.returncode == 0, result.stdout + result.stderr
    counts = {"photos": wait_count(deployment, "photos", 8), "many": wait_count(deployment, "many", 40),
              "clips": wait_count(deployment, "clips", 1)}
    workflow = httpx.put(f"{deployment.base_url}/{deployment.workspace}/workflows/detect",
                         params={"api_key": deployment.api_key}, json={"specification": detect_workflow()})
    assert workflow.status_code == 200, workflow.text
    return counts


def test_process_images_show_list_and_export(inference_cli: Path, deployment: Deployment, staged: dict[str, int],
                                             tmp_path: Path) -> None:
    assert staged["photos"] == 8
    started = rf(inference_cli, deployment, "batch-processing", "process-images-with-workflow", "--batch-id",
                 "photos", "--workflow-id", "detect", "--job-id", "cli-images", "--aggregation-format", "jsonl",
                 "--machine-type", "cpu", "--max-runtime-seconds", "600", "--job-name", "CLI images")
    assert started.returncode == 0, started.stdout + started.stderr
    job = _wait_job(deployment, "cli-images")
    assert job["state"] == "succeeded", job
    assert job["name"] == "CLI images"

    details = rf(inference_cli, deployment, "batch-processing", "show-job-details", "--job-id", "cli-images")
    assert details.returncode == 0, details.stdout + details.stderr
    assert "cli-images" in details.stdout and "processing" in details.stdout and "export" in details.stdout

    listed = rf(inference_cli, deployment, "batch-processing", "list-jobs")
    assert listed.returncode == 0 and "cli-images" in listed.stdout

    target = tmp_path / "out"
    exported = rf(inference_cli, deployment, "data-staging", "export-batch", "--batch-id", "cli-images-export",
                  "--target-dir", str(target))
    assert exported.returncode == 0, exported.stdout + exported.stderr
    (results,) = list(target.rglob("results-*.jsonl"))  # the CLI extracted the tar.gz archive
    records = [json.loads(line) for line in results.read_text().splitlines()]
    assert len(records) == 8 and len({r["image"] for r in records}) == 8
    bus = next(r for r in records if r["image"] == "bus.jpg")
    assert "bus" in [d["class"] for d in bus["predictions"]["predictions"]]

    logs = tmp_path / "logs.jsonl"
    fetched = rf(inference_cli, deployment, "batch-processing", "fetch-logs", "--job-id", "cli-images",
                 "--output-file", str(logs))
    assert fetched.returncode == 0, fetched.stdout + fetched.stderr
    assert "job-created" in logs.read_text()


def test_process_videos_with_fps_subsampling(inference_cli: Path, deployment: Deployment, staged: dict[str, int],
                                             tmp_path: Path) -> None:
    started = rf(inference_cli, deployment, "batch-processing", "process-videos-with-workflow", "--batch-id", "clips",
                 "--workflow-id", "detect", "--job-id", "cli-videos", "--max-video-fps", "5",
                 "--aggregation-format", "csv")
    assert started.returncode == 0, started.stdout + started.stderr
    job = _wait_job(deployment, "cli-videos")
    assert job["state"] == "succeeded", job
    target = tmp_path / "out"
    exported = rf(inference_cli, deployment, "data-staging", "export-batch", "--batch-id", "cli-videos-export",
                  "--target-dir", str(target))
    assert exported.returncode == 0, exported.stdout + exported.stderr
    (results,) = list(target.rglob("results-*.csv"))
    lines = results.read_text().strip().splitlines()
    # 20 frames at 10 fps sampled at 5 fps: a header and 10 rows
    assert lines[0].startswith("video,frame_number,frame_timestamp") and len(lines) == 1 + 10


def test_abort_and_restart_job(inference_cli: Path, deployment: Deployment, staged: dict[str, int]) -> None:
    # the 40 images take about a second: without the pause the job may end before the second command runs
    with workers_paused(deployment):
        started = rf(inference_cli, deployment, "batch-processing", "process-images-with-workflow", "--batch-id",
                     "many", "--workflow-id", "detect", "--job-id", "cli-abort", "--max-parallel-tasks", "1")
        assert started.returncode == 0, started.stdout + started.stderr
        aborted = rf(inference_cli, deployment, "batch-processing", "abort-job", "--job-id", "cli-abort")
        assert aborted.returncode == 0, aborted.stdout + aborted.stderr
    job = _wait_job(deployment, "cli-abort", ("aborted",), timeout=10)
    assert job["state"] == "aborted" and job["isTerminal"]
    details = rf(inference_cli, deployment, "batch-processing", "show-job-details", "--job-id", "cli-abort")
    assert details.returncode == 0, details.stdout + details.stderr

    restarted = rf(inference_cli, deployment, "batch-processing", "restart-job", "--job-id", "cli-abort",
                   "--max-parallel-tasks", "4", "--max-runtime-seconds", "900")
    assert restarted.returncode == 0, restarted.stdout + restarted.stderr
    job = _wait_job(deployment, "cli-abort")
    assert job["state"] == "succeeded", job
    assert job["restartParametersOverride"][0]["maxParallelTasks"] == 4


def _run_and_export(cli: Path, dep: Deployment, command: str, batch: str, workflow: str, job: str, images: str,
                    tmp_path: Path) -> Path:
    """A job started by the client with ``images`` outputs saved, waited for to succeed, and its export batch
    downloaded by the client: the folder it downloaded into."""
    started = rf(cli, dep, "batch-processing", command, "--batch-id", batch, "--workflow-id", workflow, "--job-id", job,
                 "--save-image-outputs", "--image-outputs-to-save", images)
    assert started.returncode == 0, started.stdout + started.stderr
    state = _wait_job(dep, job)
    assert state["state"] == "succeeded", state
    target = tmp_path / "out"
    exported = rf(cli, dep, "data-staging", "export-batch", "--batch-id", f"{job}-export", "--target-dir", str(target))
    assert exported.returncode == 0, exported.stdout + exported.stderr
    return target


def sahi_workflow() -> dict:
    """As Roboflow's editor saves a SAHI pipeline: slices of the image, a public model id (aliased here), the
    slices' detections stitched back with NMM, drawn on the image, beside a whole-image detection."""
    return {"version": "1.0", "inputs": [{"type": "InferenceImage", "name": "image"}], "steps": [
        {"type": "roboflow_core/image_slicer@v2", "name": "slicer", "image": "$inputs.image", "slice_width": 480,
         "slice_height": 480, "overlap_ratio_width": 0.2, "overlap_ratio_height": 0.2},
        {"type": "roboflow_core/roboflow_object_detection_model@v3", "name": "on_slices", "image":
         "$steps.slicer.slices", "model_id": "yolov8n-640", "confidence_mode": "custom", "custom_confidence": 0.3},
        {"type": "roboflow_core/detections_stitch@v1", "name": "stitch", "reference_image": "$inputs.image",
         "predictions": "$steps.on_slices.predictions", "overlap_filtering_strategy": "nmm",
         "iou_threshold": 0.4},
        {"type": "roboflow_core/roboflow_object_detection_model@v2", "name": "whole", "images": "$inputs.image",
         "model_id": "yolov8n-640", "confidence": 0.3},
        {"type": "roboflow_core/bounding_box_visualization@v1", "name": "vis", "image": "$inputs.image",
         "predictions": "$steps.stitch.predictions"}],
        "outputs": [{"type": "JsonField", "name": "sahi", "selector": "$steps.stitch.predictions"},
                    {"type": "JsonField", "name": "whole", "selector": "$steps.whole.predictions"},
                    {"type": "JsonField", "name": "vis", "selector": "$steps.vis.image"}]}


def test_a_sahi_job_with_detection_and_visualisation(inference_cli: Path, deployment: Deployment,
                                                     staged: dict[str, int], tmp_path: Path) -> None:
    key = {"api_key": deployment.api_key}
    alias = httpx.put(f"{deployment.base_url}/{deployment.workspace}/model-aliases/yolov8n-640", params=key,
                      json={"modelId": "yolov4-tiny-coco"})
    assert alias.status_code == 200, alias.text
    saved = httpx.put(f"{deployment.base_url}/{deployment.workspace}/workflows/sahi", params=key,
                      json={"specification": sahi_workflow()})
    assert saved.status_code == 200, saved.text
    target = _run_and_export(inference_cli, deployment, "process-images-with-workflow", "photos", "sahi", "cli-sahi",
                             "vis", tmp_path)
    records = {r["image"]: r for p in target.rglob("results-*.jsonl") for r in map(json.loads,
                                                                                     p.read_text().splitlines())}
    assert len(records) == staged["photos"]
    bus = records["bus.jpg"]
    sahi_classes = [d["class"] for d in bus["sahi"]["predictions"]]
    assert "bus" in sahi_classes and sahi_classes.count("person") >= 2, sahi_classes
    assert bus["sahi"]["image"] == bus["whole"]["image"] == {"width": 810, "height": 1080}
    for d in bus["sahi"]["predictions"]:  # stitched back into the whole image's coordinates
        assert d["x"] - d["width"] / 2 >= 0 and d["x"] + d["width"] / 2 <= 810 + 0.5
    assert {p.name for p in target.rglob("vis__*.jpg")} == {f"vis__{name}.jpg" for name in records}


def tracking_workflow() -> dict:
    """Detection -> ByteTrack -> a line counter, with each track's trace drawn: a video workflow as Roboflow's
    editor saves it."""
    return {"version": "1.0", "inputs": [{"type": "WorkflowImage", "name": "image"}], "steps": [
        {"type": "roboflow_core/roboflow_object_detection_model@v3", "name": "model", "image": "$inputs.image",
         "model_id": "boxes", "confidence_mode": "custom", "custom_confidence": 0.5},
        {"type": "roboflow_core/byte_tracker@v3", "name": "tracker", "image": "$inputs.image",
         "detections": "$steps.model.predictions"},
        {"type": "roboflow_core/line_counter@v2", "name": "counter", "image": "$inputs.image",
         "detections": "$steps.tracker.tracked_detections", "line_segment": [[80, 0], [80, 96]],
         "triggering_anchor": "CENTER"},
        {"type": "roboflow_core/trace_visualization@v1", "name": "trace", "image": "$inputs.image",
         "predictions": "$steps.tracker.tracked_detections"}],
        "outputs": [{"type": "JsonField", "name": "tracks", "selector": "$steps.tracker.tracked_detections"},
                    {"type": "JsonField", "name": "count_in", "selector": "$steps.counter.count_in"},
                    {"type": "JsonField", "name": "count_out", "selector": "$steps.counter.count_out"},
                    {"type": "JsonField", "name": "trace", "selector": "$steps.trace.image"}]}


def with_video_memory(workflow: dict) -> dict:
    """The tracking workflow, plus the blocks that remember earlier frames: each track's class locked by votes,
    the count of five frames before, and a count of detections at most every half second of video."""
    workflow["steps"] += [
        {"type": "roboflow_core/track_class_lock@v1", "name": "lock", "image": "$inputs.image",
         "detections": "$steps.tracker.tracked_detections", "min_votes": 3, "lead_margin": 0},
        {"type": "roboflow_core/frame_delay@v1", "name": "before", "image": "$inputs.image",
         "data": "$steps.counter.count_in", "offset": -5, "default_value": -1},
        {"type": "roboflow_core/rate_limiter@v1", "name": "limit", "cooldown_seconds": 0.5,
         "depends_on": "$steps.model.predictions", "next_steps": ["$steps.sampled"]},
        {"type": "roboflow_core/property_definition@v1", "name": "sampled", "data": "$steps.model.predictions",
         "operations": [{"type": "SequenceLength"}]}]
    workflow["outputs"] += [{"type": "JsonField", "name": "locked", "selector": "$steps.lock.tracked_detections"},
                            {"type": "JsonField", "name": "before", "selector": "$steps.before.output"},
                            {"type": "JsonField", "name": "sampled", "selector": "$steps.sampled.output"}]
    return workflow


def test_a_video_job_with_tracking_and_line_counting(inference_cli: Path, deployment: Deployment,
                                                     tmp_path: Path) -> None:
    """Two videos of a square crossing a line, one each way, in one task: every frame keeps the one track, each
    video counts its own crossing (the state of the first does not reach the second); so does each video's
    memory of earlier frames (class votes, a delayed value, a rate limit)."""
    videos = tmp_path / "crossing"
    videos.mkdir()
    (videos / "left-to-right.mp4").write_bytes(mp4_of(crossing_square(rightwards=True)))
    (videos / "right-to-left.mp4").write_bytes(mp4_of(crossing_square(rightwards=False)))
    staged = rf(inference_cli, deployment, "data-staging", "create-batch-of-videos", "--videos-dir", str(videos),
                "--batch-id", "crossing")
    assert staged.returncode == 0, staged.stdout + staged.stderr
    wait_count(deployment, "crossing", 2)
    key = {"api_key": deployment.api_key}
    model = httpx.put(f"{deployment.base_url}/{deployment.workspace}/models/boxes", params=key,
                      data={"task": "object-detection", "classNames": "box"},
                      files={"file": ("boxes.onnx", bright_box_detector(tmp_path / "boxes.onnx").read_bytes())})
    assert model.status_code == 200, model.text
    saved = httpx.put(f"{deployment.base_url}/{deployment.workspace}/workflows/tracking", params=key,
                      json={"specification": with_video_memory(tracking_workflow())})
    assert saved.status_code == 200, saved.text
    target = _run_and_export(inference_cli, deployment, "process-videos-with-workflow", "crossing", "tracking",
                             "cli-tracking", "trace", tmp_path)
    rows: dict[str, list[dict]] = {}
    for path in target.rglob("results-*.jsonl"):
        for row in map(json.loads, path.read_text().splitlines()):
            rows.setdefault(row["video"], []).append(row)
    assert set(rows) == {"left-to-right.mp4", "right-to-left.mp4"}
    for video, frames in rows.items():
        frames.sort(key=lambda r: r["frame_number"])
        assert [r["frame_number"] for r in frames] == list(range(20)), video
        assert [[d["tracker_id"] for d in r["tracks"]["predictions"]] for r in frames] == [[1]] * 20, video
    # the centre crosses x = 80 between frames 9 and 10 in both videos
    assert [r["count_in"] for r in rows["left-to-right.mp4"]] == [0] * 10 + [1] * 10
    assert [r["count_out"] for r in rows["right-to-left.mp4"]] == [0] * 10 + [1] * 10
    assert rows["left-to-right.mp4"][-1]["count_out"] == rows["right-to-left.mp4"][-1]["count_in"] == 0
    assert len(list(target.rglob("trace__*.jpg"))) == 40
    for video, frames in rows.items():
        assert {d["class"] for r in frames for d in r["locked"]["predictions"]} == {"box"}, video
        counts = [r["count_in"] for r in frames]
        assert [r["before"] for r in frames] == [-1] * 5 + counts[:15], video
        # 10 fps: the limiter opens at 0.0, 0.5, 1.0 and 1.5 s of each video
        assert [i for i, r in enumerate(frames) if r.get("sampled") is not None] == [0, 5, 10, 15], video
        assert {r.get("sampled") for r in frames} == {1, None}, video
