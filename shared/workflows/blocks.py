"""The core Roboflow Workflow blocks, implemented on Conveyor's own ONNX models.

Each block declares its parameters (``image``/``predictions`` parameters may receive a ``Batch`` of
crops, in which case the block runs once per element), its outputs and a ``run`` function. Output shapes
follow Roboflow's serialised Workflow outputs.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import cv2

from shared.workflows import uql
from shared.workflows.errors import WorkflowInvalid
from shared.workflows.values import Batch, Classification, Detections, Image


class ModelProvider(Protocol):
    """Resolves ``model_id``s of the workflow to loaded models (the worker's model registry cache)."""

    def detector(self, model_id: str) -> Any: ...

    def classifier(self, model_id: str) -> Any: ...


@dataclass(frozen=True)
class Block:
    types: tuple[str, ...]
    params: dict[str, str]  # name -> "image" | "predictions" | "value"
    required: tuple[str, ...]
    outputs: tuple[str, ...]
    run: Callable[[ModelProvider, dict[str, Any]], dict[str, Any]]
    defaults: dict[str, Any] = field(default_factory=dict)


def _detect(models: ModelProvider, p: dict[str, Any]) -> dict[str, Any]:
    image: Image = p["images"]
    detector = models.detector(p["model_id"])
    class_filter = set(p["class_filter"]) if p.get("class_filter") else None
    (found,) = detector.detect([image.array], confidence=float(p["confidence"]),
                               iou_threshold=float(p["iou_threshold"]), max_detections=int(p["max_detections"]),
                               class_filter=class_filter)
    return {"predictions": Detections(image.width, image.height, found, image.parent_id),
            "model_id": p["model_id"], "inference_id": str(uuid.uuid4())}


def _classify(models: ModelProvider, p: dict[str, Any]) -> dict[str, Any]:
    image: Image = p["images"]
    (result,) = models.classifier(p["model_id"]).classify([image.array], confidence=float(p["confidence"]))
    result["parent_id"] = image.parent_id
    return {"predictions": Classification(result), "model_id": p["model_id"], "inference_id": str(uuid.uuid4())}


def _filter(_: ModelProvider, p: dict[str, Any]) -> dict[str, Any]:
    return {"predictions": uql.apply(p["operations"], p["predictions"], p.get("operations_parameters") or {})}


def _property(_: ModelProvider, p: dict[str, Any]) -> dict[str, Any]:
    return {"output": uql.apply(p["operations"], p["data"], {})}


def _corners(d: dict[str, Any], w: int, h: int) -> tuple[int, int, int, int]:
    x1 = int(max(0, round(d["x"] - d["width"] / 2)))
    y1 = int(max(0, round(d["y"] - d["height"] / 2)))
    x2 = int(min(w, round(d["x"] + d["width"] / 2)))
    y2 = int(min(h, round(d["y"] + d["height"] / 2)))
    return x1, y1, x2, y2


def _crop(_: ModelProvider, p: dict[str, Any]) -> dict[str, Any]:
    image: Image = p["images"]
    dets: Detections = p["predictions"]
    crops = Batch()
    for d in dets.items:
        x1, y1, x2, y2 = _corners(d, image.width, image.height)
        if x2 > x1 and y2 > y1:
            crops.append(Image(image.array[y1:y2, x1:x2].copy(), parent_id=d["detection_id"], offset=(x1, y1)))
    return {"crops": crops}


_PALETTE = [(56, 56, 255), (151, 157, 255), (31, 112, 255), (29, 178, 255), (49, 210, 207), (10, 249, 72),
            (23, 204, 146), (134, 219, 61), (52, 147, 26), (187, 212, 0), (168, 153, 44), (255, 194, 0)]


def _color(d: dict[str, Any]) -> tuple[int, int, int]:
    return _PALETTE[int(d.get("class_id", 0)) % len(_PALETTE)]


def _boxes(_: ModelProvider, p: dict[str, Any]) -> dict[str, Any]:
    image: Image = p["image"]
    canvas = image.array.copy() if p.get("copy_image", True) else image.array
    thickness = int(p.get("thickness") or max(2, round(min(image.width, image.height) / 300)))
    for d in p["predictions"].items:
        x1, y1, x2, y2 = _corners(d, image.width, image.height)
        cv2.rectangle(canvas, (x1, y1), (x2, y2), _color(d), thickness)
    return {"image": Image(canvas, parent_id=image.parent_id, offset=image.offset)}


def _labels(_: ModelProvider, p: dict[str, Any]) -> dict[str, Any]:
    image: Image = p["image"]
    canvas = image.array.copy() if p.get("copy_image", True) else image.array
    scale = max(0.4, min(image.width, image.height) / 1000)
    for d in p["predictions"].items:
        x1, y1, _, _ = _corners(d, image.width, image.height)
        text = {"Class": d["class"], "Confidence": f"{d['confidence']:.2f}",
                "Class and Confidence": f"{d['class']} {d['confidence']:.2f}"}.get(p.get("text") or "Class", d["class"])
        (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
        top = max(0, y1 - th - base - 2)
        cv2.rectangle(canvas, (x1, top), (x1 + tw + 4, top + th + base + 2), _color(d), -1)
        cv2.putText(canvas, text, (x1 + 2, top + th), cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), 1, cv2.LINE_AA)
    return {"image": Image(canvas, parent_id=image.parent_id, offset=image.offset)}


_DETECTION_PARAMS = {"images": "image", "model_id": "value", "confidence": "value", "iou_threshold": "value",
                     "max_detections": "value", "class_filter": "value", "class_agnostic_nms": "value",
                     "max_candidates": "value", "disable_active_learning": "value",
                     "active_learning_target_dataset": "value"}

BLOCKS: list[Block] = [
    Block(("roboflow_core/roboflow_object_detection_model@v1", "roboflow_core/roboflow_object_detection_model@v2",
           "RoboflowObjectDetectionModel", "ObjectDetectionModel"),
          _DETECTION_PARAMS, ("images", "model_id"), ("predictions", "model_id", "inference_id"), _detect,
          {"confidence": 0.4, "iou_threshold": 0.3, "max_detections": 300}),
    Block(("roboflow_core/roboflow_classification_model@v1", "roboflow_core/roboflow_classification_model@v2",
           "RoboflowClassificationModel", "ClassificationModel"),
          {"images": "image", "model_id": "value", "confidence": "value", "disable_active_learning": "value",
           "active_learning_target_dataset": "value"},
          ("images", "model_id"), ("predictions", "model_id", "inference_id"), _classify, {"confidence": 0.4}),
    Block(("roboflow_core/detections_filter@v1", "DetectionsFilter"),
          {"predictions": "predictions", "operations": "value", "operations_parameters": "value"},
          ("predictions", "operations"), ("predictions",), _filter),
    Block(("roboflow_core/dynamic_crop@v1", "Crop"), {"images": "image", "predictions": "predictions"},
          ("images", "predictions"), ("crops",), _crop),
    Block(("roboflow_core/bounding_box_visualization@v1",),
          {"image": "image", "predictions": "predictions", "copy_image": "value", "thickness": "value",
           "color_palette": "value", "roundness": "value"},
          ("image", "predictions"), ("image",), _boxes),
    Block(("roboflow_core/label_visualization@v1",),
          {"image": "image", "predictions": "predictions", "copy_image": "value", "text": "value",
           "text_position": "value", "color_palette": "value", "text_scale": "value"},
          ("image", "predictions"), ("image",), _labels),
    Block(("roboflow_core/property_definition@v1", "PropertyDefinition"),
          {"data": "predictions", "operations": "value"},
          ("data", "operations"), ("output",), _property),
]

BY_TYPE: dict[str, Block] = {t: b for b in BLOCKS for t in b.types}

# Blocks refused for security: they would let a workflow reach the worker's disk or environment.


def run_block(block: Block, models: ModelProvider, params: dict[str, Any]) -> dict[str, Any]:
    """Run a block, once per element when an image or predictions parameter is a Batch (crops)."""
    batched = [n for n, kind in block.params.items() if kind != "value" and isinstance(params.get(n), Batch)]
    if not batched:
        return block.run(models, params)
    size = len(params[batched[0]])
    results = [block.run(models, {**params, **{n: params[n][i] for n in batched}}) for i in range(size)]
    return {out: Batch(r[out] for r in results) for out in block.outputs}


def check_block_params(step: dict[str, Any], block: Block) -> None:
    """Static checks of a step's literal parameters."""
    name = step.get("name")
    for required in block.required:
        if required not in step:
            raise WorkflowInvalid(f"step {name!r} ({step['type']}) is missing {required!r}")
    if "operations" in block.params and isinstance(step.get("operations"), list | dict):
        uql.check_operations(step["operations"], f"step {name!r}")
