"""What Roboflow's ``roboflow_core/detections_merge@v1`` does, as the built-in executor runs it."""

from __future__ import annotations

import uuid
from typing import Any

from worker_svc.workflows.values import Detections, box_around, with_xyxy


def run(_: Any, p: dict[str, Any]) -> dict[str, Any]:
    """One detection: the union of the boxes, with the lowest confidence among them."""
    detections: Detections = p["predictions"]
    if not detections.items:
        return {"predictions": detections.with_items([])}
    confidence = min(float(d.get("confidence", 1.0)) for d in detections.items)
    merged = with_xyxy({"confidence": confidence, "class": str(p["class_name"]), "class_id": 0,
                        "detection_id": str(uuid.uuid4())}, *box_around(detections.items))
    return {"predictions": detections.with_items([merged])}
