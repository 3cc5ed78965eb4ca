"""The catalogue of the built-in executor's Roboflow Workflow blocks: for every block, the type names it answers
to, its parameters and their kinds, what it requires and what it outputs.

This is what a definition is compiled against (by the scheduler when a job or workflow is saved, and by the
worker before it runs one); the run functions live with the worker (``worker_svc.workflows.blocks``), keyed by
the block's ``name``, and a unit test checks that both sides list the same blocks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from shared.workflows import uql
from shared.workflows.errors import WorkflowInvalid


@dataclass(frozen=True)
class BlockSpec:
    name: str  # the key of its run function
    types: tuple[str, ...]
    params: dict[str, str]  # name -> "image" | "predictions" | "value"
    required: tuple[str, ...]
    outputs: tuple[str, ...]
    defaults: dict[str, Any] = field(default_factory=dict)


_DETECTION_PARAMS = {"images": "image", "model_id": "value", "confidence": "value", "iou_threshold": "value",
                     "max_detections": "value", "class_filter": "value", "class_agnostic_nms": "value",
                     "max_candidates": "value", "disable_active_learning": "value",
                     "active_learning_target_dataset": "value"}

CATALOGUE: list[BlockSpec] = [
    BlockSpec("object_detection",
              ("roboflow_core/roboflow_object_detection_model@v1", "roboflow_core/roboflow_object_detection_model@v2",
               "RoboflowObjectDetectionModel", "ObjectDetectionModel"),
              _DETECTION_PARAMS, ("images", "model_id"), ("predictions", "model_id", "inference_id"),
              {"confidence": 0.4, "iou_threshold": 0.3, "max_detections": 300}),
    BlockSpec("classification",
              ("roboflow_core/roboflow_classification_model@v1", "roboflow_core/roboflow_classification_model@v2",
               "RoboflowClassificationModel", "ClassificationModel"),
              {"images": "image", "model_id": "value", "confidence": "value", "disable_active_learning": "value",
               "active_learning_target_dataset": "value"},
              ("images", "model_id"), ("predictions", "model_id", "inference_id"), {"confidence": 0.4}),
    BlockSpec("detections_filter", ("roboflow_core/detections_filter@v1", "DetectionsFilter"),
              {"predictions": "predictions", "operations": "value", "operations_parameters": "value"},
              ("predictions", "operations"), ("predictions",)),
    BlockSpec("dynamic_crop", ("roboflow_core/dynamic_crop@v1", "Crop"),
              {"images": "image", "predictions": "predictions"}, ("images", "predictions"), ("crops",)),
    BlockSpec("bounding_box_visualization", ("roboflow_core/bounding_box_visualization@v1",),
              {"image": "image", "predictions": "predictions", "copy_image": "value", "thickness": "value",
               "color_palette": "value", "roundness": "value"},
              ("image", "predictions"), ("image",)),
    BlockSpec("label_visualization", ("roboflow_core/label_visualization@v1",),
              {"image": "image", "predictions": "predictions", "copy_image": "value", "text": "value",
               "text_position": "value", "color_palette": "value", "text_scale": "value"},
              ("image", "predictions"), ("image",)),
    BlockSpec("property_definition", ("roboflow_core/property_definition@v1", "PropertyDefinition"),
              {"data": "predictions", "operations": "value"}, ("data", "operations"), ("output",)),
]

BY_TYPE: dict[str, BlockSpec] = {t: b for b in CATALOGUE for t in b.types}


def check_block_params(step: dict[str, Any], block: BlockSpec) -> None:
    """Static checks of a step's literal parameters."""
    name = step.get("name")
    for required in block.required:
        if required not in step:
            raise WorkflowInvalid(f"step {name!r} ({step['type']}) is missing {required!r}")
    if "operations" in block.params and isinstance(step.get("operations"), list | dict):
        uql.check_operations(step["operations"], f"step {name!r}")
