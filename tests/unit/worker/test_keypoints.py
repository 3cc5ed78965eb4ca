"""Keypoint detection decoded from a graph of the YOLOv8-pose layout whose keypoints are known, through the
model and through Roboflow's keypoint detection blocks; the registry checks the layout against the names."""

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from scheduler_svc.model_inspection import inspect_model
from shared.errors import InvalidInput
from shared.workflows.compiler import compile_workflow
from shared.workflows.errors import WorkflowRunFailed
from tests.fixtures.onnx_models import bright_box_detector, colour_classifier, square_segmenter, two_point_poser
from worker_svc.inference.detector import OnnxDetector
from worker_svc.models import LoadedModels
from worker_svc.workflows.runner import WorkflowRunner
from worker_svc.workflows.values import serialize


@pytest.fixture
def poser(tmp_path: Path) -> OnnxDetector:
    return OnnxDetector(two_point_poser(tmp_path / "pose.onnx"), ["person"], layout="yolov8-pose",
                        keypoint_names=["head", "foot"])


def test_keypoints_follow_the_letterbox_back_to_the_image(poser: OnnxDetector) -> None:
    # a 128 x 64 image is scaled by a half into the 64 x 64 input, with 16 px of padding above and below
    (person,) = poser.detect([np.zeros((64, 128, 3), np.uint8)], confidence=0.5)[0]
    assert (person["x"], person["y"], person["width"], person["height"]) == (64.0, 32.0, 64.0, 64.0)
    assert person["keypoints"] == [
        {"x": 64.0, "y": 8.0, "confidence": 0.95, "class_id": 0, "class": "head"},
        {"x": 64.0, "y": 56.0, "confidence": 0.3, "class_id": 1, "class": "foot"}]
    (confident,) = poser.detect([np.zeros((64, 64, 3), np.uint8)], confidence=0.5, keypoint_confidence=0.5)[0]
    assert [k["class"] for k in confident["keypoints"]] == ["head"]


class Models(LoadedModels):
    def __init__(self, **models: OnnxDetector) -> None:
        self.models = models

    def detector(self, model_id: str) -> OnnxDetector:
        return self.models[model_id]

    def classifier(self, model_id: str) -> Any:
        raise KeyError(model_id)


def _workflow(block: str, model: str, **params: Any) -> dict[str, Any]:
    return {"version": "1.0", "inputs": [{"type": "WorkflowImage", "name": "image"}],
            "steps": [{"type": block, "name": "pose", "image": "$inputs.image", "model_id": model, **params}],
            "outputs": [{"type": "JsonField", "name": "pose", "selector": "$steps.pose.predictions"}]}


def test_every_version_of_the_keypoint_block(poser: OnnxDetector, tmp_path: Path) -> None:
    boxes = OnnxDetector(bright_box_detector(tmp_path / "boxes.onnx"), ["box"])
    models = Models(pose=poser, boxes=boxes)
    image = np.zeros((64, 64, 3), np.uint8)
    for block, params in (("KeypointsDetectionModel", {"keypoint_confidence": 0.5}),
                          ("roboflow_core/roboflow_keypoint_detection_model@v2", {"keypoint_confidence": 0.5}),
                          ("roboflow_core/roboflow_keypoint_detection_model@v3",
                           {"confidence_mode": "custom", "custom_confidence": 0.5, "keypoint_confidence": 0.5})):
        out = serialize(WorkflowRunner(compile_workflow(_workflow(block, "pose", **params)), models, {}).run(image))
        (person,) = out["pose"]["predictions"]
        assert [(k["class"], k["x"], k["y"]) for k in person["keypoints"]] == [("head", 32.0, 20.0)], block
    wrong = WorkflowRunner(compile_workflow(_workflow("roboflow_core/roboflow_keypoint_detection_model@v2", "boxes")),
                           models, {})
    with pytest.raises(WorkflowRunFailed, match="not a keypoint detection model"):
        wrong.run(image)
    as_boxes = WorkflowRunner(compile_workflow(_workflow("roboflow_core/roboflow_object_detection_model@v2",
                                                         "pose")), models, {})
    with pytest.raises(WorkflowRunFailed, match="use the keypoint detection block"):
        as_boxes.run(image)


def test_the_registry_checks_the_pose_layout(tmp_path: Path) -> None:
    path = two_point_poser(tmp_path / "pose.onnx")
    assert inspect_model(path, "keypoint-detection", ["person"], ["head", "foot"]) == ("yolov8-pose", 64)
    with pytest.raises(InvalidInput, match="has 2 keypoints, keypointNames lists 1"):
        inspect_model(path, "keypoint-detection", ["person"], ["head"])
    with pytest.raises(InvalidInput, match="not 2 class scores and 3 per keypoint"):
        inspect_model(path, "keypoint-detection", ["person", "dog"], ["head", "foot"])
    with pytest.raises(InvalidInput, match="keypointNames is for keypoint detection models"):
        inspect_model(square_segmenter(tmp_path / "seg.onnx"), "instance-segmentation", ["blob"], ["head"])
    with pytest.raises(InvalidInput, match="keypointNames is for keypoint detection models"):
        inspect_model(colour_classifier(tmp_path / "cls.onnx", softmax=True), "classification", ["r", "g", "b"],
                      ["head"])


def test_keypoints_are_drawn_as_vertices_and_edges(poser: OnnxDetector) -> None:
    definition = _workflow("roboflow_core/roboflow_keypoint_detection_model@v2", "pose")
    definition["steps"].append({"type": "roboflow_core/keypoint_visualization@v1", "name": "vis",
                                "image": "$inputs.image", "predictions": "$steps.pose.predictions"})
    definition["outputs"] = [{"type": "JsonField", "name": "vis", "selector": "$steps.vis.image"}]
    image = np.zeros((64, 64, 3), np.uint8)
    for kind, params in (("vertex", {"radius": 3, "color": "#FF0000"}),
                         ("edge", {"edges": [[1, 2]], "thickness": 1, "color": "#00FF00"})):
        definition["steps"][1] = {**definition["steps"][1], "annotator_type": kind, **params}
        drawn = WorkflowRunner(compile_workflow(definition), Models(pose=poser), {}).run(image)["vis"].array
        if kind == "vertex":  # a disc on the head (32, 20) and the foot (32, 44)
            assert drawn[20, 32].tolist() == drawn[44, 32].tolist() == [0, 0, 255] and not drawn[32, 10].any()
        else:  # a line from the head to the foot
            assert all(drawn[y, 32].tolist() == [0, 255, 0] for y in range(21, 44)) and not drawn[32, 10].any()
