"""What Roboflow's ``roboflow_core/template_matching@v1`` does, as the built-in executor runs it."""

from __future__ import annotations

import uuid
from typing import Any

import cv2
import numpy as np

from worker_svc.workflows.values import Detections, Image, with_xyxy


def _suppressed_around_best(boxes: np.ndarray, scores: np.ndarray, threshold: float) -> np.ndarray:
    """Greedy non-maximum suppression (a box overlapping a better kept one by IoU > ``threshold`` is dropped), in
    memory linear in the boxes: a low matching threshold gives hundreds of thousands of places, whose IoU matrix
    (what supervision's NMS builds) would not fit in memory. Returns the indices kept, best first."""
    order = np.argsort(-scores, kind="stable")
    boxes = boxes[order]
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    kept = []
    remaining = np.arange(len(boxes))
    while remaining.size:
        best, rest = remaining[0], remaining[1:]
        kept.append(best)
        x1, y1 = np.maximum(boxes[best, 0], boxes[rest, 0]), np.maximum(boxes[best, 1], boxes[rest, 1])
        x2, y2 = np.minimum(boxes[best, 2], boxes[rest, 2]), np.minimum(boxes[best, 3], boxes[rest, 3])
        inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
        remaining = rest[inter / (areas[best] + areas[rest] - inter) <= threshold]
    return order[np.asarray(kept, dtype=int)]


def run(_: Any, p: dict[str, Any]) -> dict[str, Any]:
    """Where the template appears (normalised cross-correlation of the grey levels >= ``matching_threshold``),
    one box of the template's size per place (confidence 1, as Roboflow's), overlapping places suppressed by NMS
    unless ``apply_nms`` is false."""
    image: Image = p["image"]
    template: Image = p["template"]
    grey = cv2.cvtColor(image.array, cv2.COLOR_BGR2GRAY)
    pattern = cv2.cvtColor(template.array, cv2.COLOR_BGR2GRAY)
    h, w = pattern.shape
    if h > grey.shape[0] or w > grey.shape[1]:
        raise ValueError(f"the template ({w} x {h}) is larger than the image ({grey.shape[1]} x {grey.shape[0]})")
    scores = cv2.matchTemplate(grey, pattern, cv2.TM_CCOEFF_NORMED)
    ys, xs = np.nonzero(scores >= float(p["matching_threshold"]))
    boxes = np.stack([xs, ys, xs + w, ys + h], axis=1).astype(np.float32)
    if len(boxes) and p["apply_nms"]:
        # the best correlation of a cluster is kept (Roboflow ranks its matches, all of confidence 1, by
        # nothing, so any of them may survive)
        boxes = boxes[_suppressed_around_best(boxes, scores[ys, xs], float(p["nms_threshold"]))]
    items = [with_xyxy({"confidence": 1.0, "class": "template_match", "class_id": 0,
                        "detection_id": str(uuid.uuid4())}, float(x1), float(y1), float(x2), float(y2))
             for x1, y1, x2, y2 in boxes]
    found = Detections(image.width, image.height, [image.to_full_size(d) for d in items], image.parent_id,
                       image.offset)
    return {"predictions": found, "number_of_matches": len(items)}
