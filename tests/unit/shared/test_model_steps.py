"""Which kind of model each of Roboflow's model blocks runs, and which model id a step names."""

import pytest

from shared.workflows.errors import WorkflowInvalid
from shared.workflows.model_steps import ModelStep, model_steps, task_of, unservable_steps


@pytest.mark.parametrize(("block", "task"), [
    ("roboflow_core/roboflow_object_detection_model@v1", "object-detection"),
    ("roboflow_core/roboflow_object_detection_model@v3", "object-detection"),
    ("ObjectDetectionModel", "object-detection"),
    ("RoboflowObjectDetectionModel", "object-detection"),
    ("roboflow_core/roboflow_instance_segmentation_model@v2", "instance-segmentation"),
    ("InstanceSegmentationModel", "instance-segmentation"),
    ("roboflow_core/roboflow_keypoint_detection_model@v2", "keypoint-detection"),
    ("KeypointsDetectionModel", "keypoint-detection"),
    ("roboflow_core/roboflow_classification_model@v2", "classification"),
    ("ClassificationModel", "classification"),
    ("roboflow_core/roboflow_multi_label_classification_model@v2", "multi-label-classification"),
    ("MultiLabelClassificationModel", "multi-label-classification"),
    ("roboflow_core/sahi@v1", None), ("roboflow_core/ocr_model@v1", None),
])
def test_each_model_block_names_the_kind_of_model_it_runs(block: str, task: str | None) -> None:
    assert task_of(block) == task


def test_model_ids_come_from_the_step_or_the_parameters_and_never_from_another_step() -> None:
    spec = {"inputs": [{"type": "WorkflowImage", "name": "image"},
                       {"type": "WorkflowParameter", "name": "model", "default_value": "default-id"}],
            "steps": [{"type": "roboflow_core/roboflow_object_detection_model@v2", "name": "a", "model_id": "lit"},
                      {"type": "roboflow_core/roboflow_classification_model@v2", "name": "b",
                       "model_id": "$inputs.model"},
                      {"type": "roboflow_core/property_definition@v1", "name": "c"}],
            "outputs": []}
    assert model_steps({"specification": spec}, {}) == [
        ModelStep("a", "roboflow_core/roboflow_object_detection_model@v2", "lit", "object-detection"),
        ModelStep("b", "roboflow_core/roboflow_classification_model@v2", "default-id", "classification")]
    assert model_steps(spec, {"model": "given"})[1].model_id == "given"
    spec["steps"].append({"type": "roboflow_core/roboflow_object_detection_model@v2", "name": "d",
                          "model_id": "$steps.parser.model_id"})
    with pytest.raises(WorkflowInvalid, match=r"step 'd' takes its model_id from \$steps.parser.model_id"):
        model_steps(spec, {})


@pytest.mark.parametrize(("block", "unservable"), [
    ("roboflow_core/florence_2@v1", True), ("roboflow_core/clip_comparison@v2", True),
    ("roboflow_core/yolo_world_model@v1", True), ("roboflow_core/segment_anything@v1", True),
    ("roboflow_core/roboflow_semantic_segmentation_model@v1", True), ("roboflow_core/easy_ocr@v1", True),
    ("YoloWorldModel", True),
    ("roboflow_core/roboflow_object_detection_model@v3", False), ("ObjectDetectionModel", False),
    ("roboflow_core/roboflow_multi_label_classification_model@v2", False),
    ("roboflow_core/ocr_model@v1", False), ("roboflow_core/pp_ocr@v1", False), ("OCRModel", False),
    ("roboflow_core/open_ai@v2", False), ("roboflow_core/dynamic_crop@v1", False),  # no model, or a service's
])
def test_a_step_needing_a_model_no_registered_one_can_be_is_found(block: str, unservable: bool) -> None:
    spec = {"steps": [{"type": block, "name": "s"}]}
    assert unservable_steps(spec) == ([("s", block)] if unservable else [])
