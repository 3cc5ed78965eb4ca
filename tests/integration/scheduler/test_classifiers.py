"""Classifiers registered through the API, single- and multi-label, run by their Roboflow blocks in a job; a
block given the other kind of classifier fails that image with the reason."""

import json
from pathlib import Path

import cv2
import numpy as np

from tests.fixtures.onnx_models import colour_classifier
from tests.fixtures.pipeline import Pipeline, job_body


def _png(r: int, g: int, b: int) -> bytes:
    return cv2.imencode(".png", np.full((32, 32, 3), (b, g, r), np.uint8))[1].tobytes()


def _workflow(block: str, model: str) -> dict:
    return {"version": "1.0", "inputs": [{"type": "WorkflowImage", "name": "image"}],
            "steps": [{"type": block, "name": "cls", "image": "$inputs.image", "model_id": model,
                       "confidence": 0.5}],
            "outputs": [{"type": "JsonField", "name": "cls", "selector": "$steps.cls.predictions"}]}


async def _register(p: Pipeline, model_id: str, path: Path, task: str) -> dict:
    resp = await p.jobs.put(f"/{p.staging.workspace.slug}/models/{model_id}", params={"api_key": p.staging.key},
                            data={"task": task, "classNames": "red,green,blue"},
                            files={"file": ("m.onnx", path.read_bytes())})
    return {"status": resp.status_code, **resp.json()}


async def test_single_and_multi_label_classifiers_in_jobs(pipeline: Pipeline, tmp_path: Path) -> None:
    p = pipeline
    ws = p.staging.workspace.slug
    for name, data in (("magenta.png", _png(255, 0, 255)), ("green.png", _png(0, 255, 0))):
        resp = await p.staging.post("/batches/colours/upload/image", files={name: (name, data)}, fileName=name)
        assert resp.status_code == 200, resp.text
    multi = await _register(p, "colours-ml", colour_classifier(tmp_path / "ml.onnx", softmax=False),
                            "multi-label-classification")
    assert multi["status"] == 200 and multi["task"] == "multi-label-classification", multi
    single = await _register(p, "colours", colour_classifier(tmp_path / "s.onnx", softmax=True), "classification")
    assert single["status"] == 200, single
    wrong = await _register(p, "colours-x", tmp_path / "ml.onnx", "segmentation")
    assert wrong["status"] == 400 and "multi-label-classification" in wrong["message"]

    await p.put_workflow("ml", _workflow("roboflow_core/roboflow_multi_label_classification_model@v2", "colours-ml"))
    assert (await p.jobs_post("/jobs/ml-job", json=job_body(ws, "colours", "ml"))).status_code == 200
    assert (await p.wait_job("ml-job"))["state"] == "succeeded"
    rows = {r["image"]: r for name, data in (await p.export_files("ml-job")).items() if name.endswith(".jsonl")
            for r in map(json.loads, data.decode().splitlines())}
    assert rows["magenta.png"]["cls"]["predicted_classes"] == ["red", "blue"]
    assert rows["green.png"]["cls"]["predicted_classes"] == ["green"]
    assert rows["green.png"]["cls"]["predictions"]["green"] == {"confidence": 1.0, "class_id": 1}

    # the single-label block on the multi-label model: every image fails with the reason, nothing else
    await p.put_workflow("mixed", _workflow("roboflow_core/roboflow_classification_model@v2", "colours-ml"))
    assert (await p.jobs_post("/jobs/mixed-job", json=job_body(ws, "colours", "mixed"))).status_code == 200
    job = await p.wait_job("mixed-job")
    assert job["state"] == "failed" and "every file failed" in job["reason"], job
    logs = (await p.jobs_get("/jobs/mixed-job/logs")).json()["logs"]
    reasons = [f["reason"] for log in logs if log["logType"] == "files-failed" for f in log["payload"]["failedFiles"]]
    assert len(reasons) == 2 and all("is not a single-label classifier" in r for r in reasons)
