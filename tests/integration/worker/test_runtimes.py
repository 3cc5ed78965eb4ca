"""Where a job's models ran, as its metadata says: the accuracy gate's choice on the task's own images, or the
runtime and precision a worker is set to."""

import json
import shutil
import tempfile
from pathlib import Path

import pytest

from tests.fixtures.media import bus_video, photo
from tests.fixtures.pipeline import Pipeline, job_body
from tests.fixtures.workflows import DETECTOR, detect_workflow
from worker_svc.inference.runtimes import cpu_capabilities

GATE_CACHE = Path(tempfile.mkdtemp(prefix="conveyor-gate-test-"))  # no verdict from an earlier run
PHOTOS = 34  # one task: the gate compares on its first 32
VIDEO_GATE_CACHE = Path(tempfile.mkdtemp(prefix="conveyor-gate-video-test-"))


async def _stage(p: Pipeline, batch: str, count: int) -> None:
    for i in range(count):
        name = f"p{i:02d}.jpg"
        data = photo("bus.jpg" if i % 2 else "zidane.jpg")
        resp = await p.staging.post(f"/batches/{batch}/upload/image", files={name: (name, data)}, fileName=name)
        assert resp.status_code == 200, resp.text


@pytest.mark.parametrize("pipeline", [{"scheduler": {"images_per_task": 50},
                                       "worker": {"cache_dir": GATE_CACHE}}], indirect=True)
async def test_the_gate_chooses_on_the_tasks_images_and_the_job_says_what_ran(pipeline: Pipeline) -> None:
    p = pipeline
    try:
        await _stage(p, "gated", PHOTOS)
        assert (await p.put_workflow("detect", detect_workflow())).status_code == 200
        assert (await p.jobs_post("/jobs/gated-job", json=job_body(p.staging.workspace.slug, "gated", "detect"))
                ).status_code == 200
        job = await p.wait_job("gated-job")
        assert job["state"] == "succeeded", job
        verdicts = list((GATE_CACHE / "gate").glob("*-cpu.json"))
        assert len(verdicts) == 1, (job["inference"], sorted(str(f) for f in GATE_CACHE.rglob("*")))
        (verdict_file,) = verdicts
        verdict = json.loads(verdict_file.read_text())["verdict"]
        assert verdict["images"] == 32 and verdict["reference_findings"] >= 20
        chosen = verdict["chosen"]
        if "BF16" in cpu_capabilities()[1]:
            assert chosen == {"runtime": "openvino", "precision": "bf16", "device": "cpu"}, verdict
        (ran,) = job["inference"]
        assert ran == {"modelId": DETECTOR, "sha256": verdict_file.name.removesuffix("-cpu.json"),
                       **chosen, "filesProcessed": PHOTOS}
    finally:
        shutil.rmtree(GATE_CACHE, ignore_errors=True)


@pytest.mark.parametrize("pipeline", [{"worker": {"cache_dir": VIDEO_GATE_CACHE}}], indirect=True)
async def test_a_video_task_runs_the_gate_on_its_first_frames(pipeline: Pipeline) -> None:
    p = pipeline
    try:
        await p.stage_video("clip", "bus.mp4", bus_video(frames=40, fps=10))
        assert (await p.put_workflow("detect", detect_workflow())).status_code == 200
        body = job_body(p.staging.workspace.slug, "clip", "detect", videos=True)
        assert (await p.jobs_post("/jobs/gated-video", json=body)).status_code == 200
        job = await p.wait_job("gated-video")
        assert job["state"] == "succeeded", job
        (verdict_file,) = (VIDEO_GATE_CACHE / "gate").glob("*-cpu.json")
        verdict = json.loads(verdict_file.read_text())["verdict"]
        assert verdict["images"] == 32 and verdict["reference_findings"] >= 20  # the video's first 32 frames
        (ran,) = job["inference"]  # every frame, the held-back ones too, on the chosen execution
        assert {k: ran[k] for k in ("runtime", "precision", "device")} == verdict["chosen"]
        assert ran["filesProcessed"] == 1
        rows = [json.loads(line) for name, data in (await p.export_files("gated-video")).items()
                if name.endswith(".jsonl") for line in data.decode().splitlines()]
        assert sorted(r["frame_number"] for r in rows) == list(range(40))
    finally:
        shutil.rmtree(VIDEO_GATE_CACHE, ignore_errors=True)


@pytest.mark.parametrize("pipeline", [{"worker": {"runtime": "onnxruntime", "precision": "fp32"}}], indirect=True)
async def test_a_worker_set_to_a_runtime_runs_every_model_on_it(pipeline: Pipeline) -> None:
    p = pipeline
    await _stage(p, "fixed", 5)
    assert (await p.put_workflow("detect", detect_workflow())).status_code == 200
    assert (await p.jobs_post("/jobs/fixed-job", json=job_body(p.staging.workspace.slug, "fixed", "detect"))
            ).status_code == 200
    job = await p.wait_job("fixed-job")
    assert job["state"] == "succeeded", job
    (ran,) = job["inference"]
    assert ran["runtime"] == "onnxruntime" and ran["precision"] == "fp32" and ran["device"] == "cpu"
    assert ran["filesProcessed"] == 5 and len(ran["sha256"]) == 64
