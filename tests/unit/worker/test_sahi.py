"""Slicing-aided inference: known slice boxes, known stitched boxes, one model call for every slice."""

from typing import Any

import numpy as np

from shared.workflows.compiler import compile_workflow
from worker_svc.models import LoadedModels
from worker_svc.workflows.runner import WorkflowRunner
from worker_svc.workflows.sahi import _merge, _suppress, slice_offsets
from worker_svc.workflows.values import serialize


def _det(x1: float, y1: float, x2: float, y2: float, conf: float, class_id: int = 0) -> dict[str, Any]:
    return {"x": (x1 + x2) / 2, "y": (y1 + y2) / 2, "width": x2 - x1, "height": y2 - y1, "confidence": conf,
            "class": str(class_id), "class_id": class_id, "detection_id": f"{x1}-{conf}"}


def test_slice_boxes_of_both_versions() -> None:
    # 100 x 60 image, 40 x 40 slices, 25 % overlap: strides of 30
    v1 = slice_offsets(100, 60, 40, 40, 0.25, 0.25, version=1)
    assert v1 == [(0, 0, 40, 40), (30, 0, 70, 40), (60, 0, 100, 40), (90, 0, 100, 40),
                  (0, 30, 40, 60), (30, 30, 70, 60), (60, 30, 100, 60), (90, 30, 100, 60)]
    # v2 pushes the border slices back inside (all 40 x 40) and drops the duplicates that makes
    v2 = slice_offsets(100, 60, 40, 40, 0.25, 0.25, version=2)
    assert v2 == [(0, 0, 40, 40), (30, 0, 70, 40), (60, 0, 100, 40), (0, 20, 40, 60), (30, 20, 70, 60),
                  (60, 20, 100, 60)]
    assert slice_offsets(30, 20, 640, 640, 0.2, 0.2, version=2) == [(0, 0, 30, 20)]  # smaller than a slice


def test_nms_keeps_the_best_of_each_class_and_nmm_merges_them() -> None:
    items = [_det(0, 0, 10, 10, 0.6), _det(1, 0, 11, 10, 0.9), _det(1, 0, 11, 10, 0.8, class_id=1),
             _det(50, 50, 60, 60, 0.5)]
    kept = _suppress(items, 0.5)
    assert [(d["x"], d["confidence"], d["class_id"]) for d in kept] == [(6.0, 0.9, 0), (6.0, 0.8, 1),
                                                                        (55.0, 0.5, 0)]
    merged = _merge(items, 0.5)
    union = next(d for d in merged if d["class_id"] == 0 and d["confidence"] > 0.5)
    # the union of the two class-0 boxes, the winner's id, the area-weighted confidence (equal areas: the mean)
    assert (union["x"], union["width"], union["detection_id"]) == (5.5, 11.0, "1-0.9")
    assert abs(union["confidence"] - 0.75) < 1e-9
    assert len(merged) == 3


class SliceCounter:
    """Finds one 4 x 4 object at (50, 30) of the input image, wherever a slice shows all of it."""

    def __init__(self) -> None:
        self.calls: list[int] = []

    def detect(self, images: list[np.ndarray], **kwargs: Any) -> list[list[dict[str, Any]]]:
        self.calls.append(len(images))
        return [_found(img) for img in images]


def _found(slice_array: np.ndarray) -> list[dict[str, Any]]:
    ys, xs = np.nonzero(slice_array[:, :, 0])
    if len(xs) != 16:  # the object is cut by this slice's border
        return []
    return [{"x": float(xs.mean()), "y": float(ys.mean()), "width": 4.0, "height": 4.0, "confidence": 0.9,
             "class": "dot", "class_id": 0, "detection_id": f"dot-{xs.min()}-{ys.min()}"}]


class Models(LoadedModels):
    def __init__(self) -> None:
        self.counter = SliceCounter()

    def detector(self, model_id: str) -> SliceCounter:
        return self.counter

    def classifier(self, model_id: str) -> Any:
        raise KeyError(model_id)


def test_a_sahi_workflow_finds_the_object_once_in_image_coordinates() -> None:
    image = np.zeros((60, 100, 3), np.uint8)
    image[28:32, 48:52] = 255  # the object, centred on (49.5, 29.5)
    definition = {"version": "1.0", "inputs": [{"type": "WorkflowImage", "name": "image"}], "steps": [
        {"type": "roboflow_core/image_slicer@v2", "name": "slicer", "image": "$inputs.image", "slice_width": 40,
         "slice_height": 40, "overlap_ratio_width": 0.25, "overlap_ratio_height": 0.25},
        {"type": "roboflow_core/roboflow_object_detection_model@v2", "name": "model", "images": "$steps.slicer.slices",
         "model_id": "dots"},
        {"type": "roboflow_core/detections_stitch@v1", "name": "stitch", "reference_image": "$inputs.image",
         "predictions": "$steps.model.predictions", "overlap_filtering_strategy": "nms", "iou_threshold": 0.5}],
        "outputs": [{"type": "JsonField", "name": "found", "selector": "$steps.stitch.predictions"},
                    {"type": "JsonField", "name": "per_slice", "selector": "$steps.model.predictions"}]}
    models = Models()
    out = serialize(WorkflowRunner(compile_workflow(definition), models, {}).run(image))
    assert models.counter.calls == [6]  # the six slices in one model call
    assert sum(len(s["predictions"]) for s in out["per_slice"]) > 1  # seen whole by several overlapping slices
    (dot,) = out["found"]["predictions"]
    assert (dot["x"], dot["y"]) == (49.5, 29.5) and out["found"]["image"] == {"width": 100, "height": 60}
