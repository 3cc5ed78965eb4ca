"""Transformation and fusion blocks of the built-in executor: detection offset, static crops, class replacement
from a second-stage classifier (Roboflow's semantics, on Conveyor's values)."""

from __future__ import annotations

import sys
from typing import Any

from worker_svc.workflows.values import Batch, Classification, Detections, Image, new_detection_id, with_xyxy, xyxy


def detection_offset(_: Any, p: dict[str, Any]) -> dict[str, Any]:
    """Grow every box by offset_width x offset_height in all (pixels, or percent of the box), clipped to the
    image; each grown box is a new detection whose parent is the original one."""
    dets: Detections = p["predictions"]
    dx, dy = int(p["offset_width"]), int(p["offset_height"])
    percent = p["units"] == "Percent (%)"
    grown = []
    for d in dets.items:
        x1, y1, x2, y2 = xyxy(d)
        if percent:
            ox, oy = int((x2 - x1) * dx / 200), int((y2 - y1) * dy / 200)
        else:
            ox, oy = dx // 2, dy // 2
        x1, y1 = max(0.0, x1 - ox), max(0.0, y1 - oy)
        x2, y2 = min(float(dets.width), x2 + ox), min(float(dets.height), y2 + oy)
        grown.append({**with_xyxy(d, x1, y1, x2, y2), "detection_id": new_detection_id(),
                      "parent_id": d["detection_id"]})
    return {"predictions": dets.with_items(grown)}


def _static_crop(image: Image, x_center: float, y_center: float, width: float, height: float) -> Image | None:
    x1, y1 = round(x_center - width / 2), round(y_center - height / 2)
    x2, y2 = round(x1 + width), round(y1 + height)
    x1, y1, x2, y2 = max(0, x1), max(0, y1), min(image.width, x2), min(image.height, y2)
    if x2 <= x1 or y2 <= y1:
        return None  # outside the image: no crop, as in Roboflow
    return Image(image.array[y1:y2, x1:x2].copy(), parent_id=image.parent_id,
                 offset=(image.offset[0] + x1, image.offset[1] + y1))


def absolute_static_crop(_: Any, p: dict[str, Any]) -> dict[str, Any]:
    return {"crops": _static_crop(p["images"], int(p["x_center"]), int(p["y_center"]), int(p["width"]),
                                  int(p["height"]))}


def relative_static_crop(_: Any, p: dict[str, Any]) -> dict[str, Any]:
    image: Image = p["images"]
    w, h = image.width, image.height
    return {"crops": _static_crop(image, round(w * float(p["x_center"])), round(h * float(p["y_center"])),
                                  round(w * float(p["width"])), round(h * float(p["height"])))}


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


def detections_classes_replacement(_: Any, p: dict[str, Any]) -> dict[str, Any]:
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
