"""Model families registered through the API (single- and multi-label classifiers, instance segmentation,
keypoint detection) run by their Roboflow blocks in jobs; a block given another family's model fails that image
with the reason."""

import json
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from tests.fixtures.onnx_models import colour_classifier, square_segmenter, two_point_poser
from tests.fixtures.pipeline import Pipeline, job_body


def _png(r: int, g: int, b: int) -> bytes:
    return cv2.imencode(".png", np.full((32, 32, 3), (b, g, r), np.uint8))[1].tobytes()


def _workflow(block: str, model: str) -> dict:
    return {"version": "1.0", "inputs": [{"type": "WorkflowImage", "name": "image"}],
            "steps": [{"type": block, "name": "cls", "image": "$inputs.image", "model_id": model,
                       "confidence": 0.5}],
            "outputs": [{"type": "JsonField", "name": "cls", "selector": "$steps.cls.predictions"}]}


async def _register(p: Pipeline, model_id: str, path: Path, task: str, names: str = "red,green,blue") -> dict:
    resp = await p.jobs.put(f"/{p.staging.workspace.slug}/models/{model_id}", params={"api_key": p.staging.key},
                            data={"task": task, "classNames": names},
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

    # the single-label block on the multi-label model: refused when the job is created, not file by file
    await p.put_workflow("mixed", _workflow("roboflow_core/roboflow_classification_model@v2", "colours-ml"))
    mixed = await p.jobs_post("/jobs/mixed-job", json=job_body(ws, "colours", "mixed"))
    assert mixed.status_code == 400 and "runs models of task classification, but 'colours-ml' is of task " \
        "multi-label-classification" in mixed.json()["message"], mixed.text


async def test_instance_segmentation_gives_polygons_and_refuses_other_layouts(pipeline: Pipeline,
                                                                             tmp_path: Path) -> None:
    p = pipeline
    ws = p.staging.workspace.slug
    resp = await p.staging.post("/batches/shapes/upload/image", files={"a.png": ("a.png", _png(10, 10, 10))},
                                fileName="a.png")
    assert resp.status_code == 200, resp.text
    seg = await _register(p, "squares", square_segmenter(tmp_path / "seg.onnx"), "instance-segmentation", "blob")
    assert seg["status"] == 200 and seg["layout"] == "yolov8-seg", seg
    not_seg = await _register(p, "flat", colour_classifier(tmp_path / "c.onnx", softmax=True),
                              "instance-segmentation", "red,green,blue")
    assert not_seg["status"] == 400 and "YOLOv8/YOLO11-seg" in not_seg["message"]
    wrong_classes = await _register(p, "squares2", tmp_path / "seg.onnx", "instance-segmentation", "a,b")
    assert wrong_classes["status"] == 400 and "segments 1 classes" in wrong_classes["message"]

    spec: dict[str, Any] = {
        "version": "1.0", "inputs": [{"type": "WorkflowImage", "name": "image"}],
        "steps": [{"type": "roboflow_core/roboflow_instance_segmentation_model@v3", "name": "seg",
                   "image": "$inputs.image", "model_id": "squares", "confidence_mode": "custom",
                   "custom_confidence": 0.5, "mask_decode_mode": "fast"}],
        "outputs": [{"type": "JsonField", "name": "seg", "selector": "$steps.seg.predictions"}]}
    assert (await p.put_workflow("seg", spec)).status_code == 200
    assert (await p.jobs_post("/jobs/seg-job", json=job_body(ws, "shapes", "seg"))).status_code == 200
    assert (await p.wait_job("seg-job"))["state"] == "succeeded"
    (row,) = [r for name, data in (await p.export_files("seg-job")).items() if name.endswith(".jsonl")
              for r in map(json.loads, data.decode().splitlines())]
    (blob,) = row["seg"]["predictions"]
    # the 32 x 32 test image went into the 64 x 64 input at twice its size: the 16 px square is 8 px here
    xs, ys = [q["x"] for q in blob["points"]], [q["y"] for q in blob["points"]]
    assert (min(xs), min(ys), max(xs), max(ys)) == (12.0, 12.0, 18.0, 18.0) and blob["class"] == "blob"

    spec["steps"][0]["type"] = "roboflow_core/roboflow_object_detection_model@v3"
    del spec["steps"][0]["mask_decode_mode"]
    assert (await p.put_workflow("seg-as-od", spec)).status_code == 200
    refused = await p.jobs_post("/jobs/od-job", json=job_body(ws, "shapes", "seg-as-od"))  # before any file fails
    assert refused.status_code == 400 and "runs models of task object-detection" in refused.json()["message"]
    assert "is of task instance-segmentation" in refused.json()["message"], refused.text


async def test_keypoint_detection_registered_with_its_keypoint_names(pipeline: Pipeline, tmp_path: Path) -> None:
    p = pipeline
    ws = p.staging.workspace.slug
    resp = await p.staging.post("/batches/people/upload/image", files={"a.png": ("a.png", _png(10, 10, 10))},
                                fileName="a.png")
    assert resp.status_code == 200, resp.text
    path = two_point_poser(tmp_path / "pose.onnx")
    unnamed = await _register(p, "poser", path, "keypoint-detection", "person")
    assert unnamed["status"] == 400 and "keypointNames lists 0" in unnamed["message"], unnamed
    resp = await p.jobs.put(f"/{ws}/models/poser", params={"api_key": p.staging.key},
                            data={"task": "keypoint-detection", "classNames": "person",
                                  "keypointNames": '["head", "foot"]'}, files={"file": ("m.onnx", path.read_bytes())})
    assert resp.status_code == 200 and resp.json()["layout"] == "yolov8-pose", resp.text
    listed = (await p.jobs.get(f"/{ws}/models/poser", params={"api_key": p.staging.key})).json()["model"]
    assert listed["keypointNames"] == ["head", "foot"] and listed["task"] == "keypoint-detection"

    spec = {"version": "1.0", "inputs": [{"type": "WorkflowImage", "name": "image"}],
            "steps": [{"type": "roboflow_core/roboflow_keypoint_detection_model@v3", "name": "pose",
                       "image": "$inputs.image", "model_id": "poser", "confidence_mode": "custom",
                       "custom_confidence": 0.5, "keypoint_confidence": 0.5}],
            "outputs": [{"type": "JsonField", "name": "pose", "selector": "$steps.pose.predictions"}]}
    assert (await p.put_workflow("pose", spec)).status_code == 200
    assert (await p.jobs_post("/jobs/pose-job", json=job_body(ws, "people", "pose"))).status_code == 200
    assert (await p.wait_job("pose-job"))["state"] == "succeeded"
    (row,) = [r for name, data in (await p.export_files("pose-job")).items() if name.endswith(".jsonl")
              for r in map(json.loads, data.decode().splitlines())]
    (person,) = row["pose"]["predictions"]
    # the 32 x 32 image went into the 64 x 64 input at twice its size: the head at (32, 20) is (16, 10) here
    assert person["keypoints"] == [{"x": 16.0, "y": 10.0, "confidence": 0.95, "class_id": 0, "class": "head"}]
