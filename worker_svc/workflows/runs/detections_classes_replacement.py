"""What Roboflow's ``roboflow_core/detections_classes_replacement@v1`` does, as the built-in executor runs it."""

from __future__ import annotations

import sys
from typing import Any

from worker_svc.workflows.values import Batch, Classification, Detections, new_detection_id


def _leading_class(payload: dict[str, Any], fallback: tuple[str, int] | None) -> tuple[str, int, float] | None:
    """(class, class id, confidence) a classification gives its detection, or None to drop the detection."""
    if "top" in payload:  # single-label
        if not payload.get("predictions"):
            return (*fallback, 0.0) if fallback else None
        (match,) = [c for c in payload["predictions"] if c["class"] == payload["top"]]
        return payload["top"], int(match["class_id"]), float(match["confidence"])
    predicted = payload.get("predicted_classes") or []  # multi-label: the most confident predicted class
    if not predicted:
        return None
    best = max(predicted, key=lambda name: payload["predictions"][name]["confidence"])
    return best, int(payload["predictions"][best]["class_id"]), float(payload["predictions"][best]["confidence"])


def run(_: Any, p: dict[str, Any]) -> dict[str, Any]:
    """Each detection takes the class its crop's classification found (matched by the crop's parent, the
    detection); detections without one are dropped, or take the fallback class when one is given."""
    dets: Detections | None = p["object_detection_predictions"]
    if dets is None:
        return {"predictions": None}
    results = p["classification_predictions"]
    classifications = [c for c in (results if isinstance(results, Batch | list) else [results])
                       if isinstance(c, Classification)]
    if not classifications:
        return {"predictions": dets.with_items([])}
    fallback = None
    if p["fallback_class_name"]:
        fallback_id = p["fallback_class_id"]
        fallback = (str(p["fallback_class_name"]),
                    sys.maxsize if fallback_id is None or int(fallback_id) < 0 else int(fallback_id))
    by_detection = {c.payload.get("parent_id"): _leading_class(c.payload, fallback) for c in classifications}
    replaced = []
    for d in dets.items:
        leading = by_detection.get(d["detection_id"])
        if leading is not None:
            name, class_id, confidence = leading
            replaced.append({**d, "class": name, "class_id": class_id, "confidence": confidence,
                             "detection_id": new_detection_id()})
    return {"predictions": dets.with_items(replaced)}
