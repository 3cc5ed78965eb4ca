"""``detections_consensus``: detections that enough sources (models) agree on, merged into one, and whether the
objects asked for are present — Roboflow's semantics: each detection looks for the most overlapping detection
of every other source (of its class, if class-aware) above the IoU threshold; with ``required_votes`` sources
agreeing, they merge (class, box and confidence by the aggregation modes), and each detection votes once."""

from __future__ import annotations

import statistics
import uuid
from collections import Counter
from collections.abc import Callable
from typing import Any

import cv2
import numpy as np

from worker_svc.workflows.values import Detections, box_iou, with_xyxy, xyxy

AGGREGATE: dict[str, Callable[[list[float]], float]] = {"average": statistics.mean, "max": max, "min": min}


def _class_of(group: list[dict[str, Any]], mode: str) -> tuple[str, int]:
    if mode == "max":
        best = max(group, key=lambda d: d["confidence"])
    elif mode == "min":
        best = min(group, key=lambda d: d["confidence"])
    else:  # the majority class
        (name, class_id), _ = Counter((d["class"], d["class_id"]) for d in group).most_common(1)[0]
        return name, class_id
    return best["class"], best["class_id"]


def _box(group: list[dict[str, Any]], mode: str) -> tuple[float, float, float, float]:
    if mode == "average":
        x1, y1, x2, y2 = np.mean([xyxy(d) for d in group], axis=0).tolist()
        return x1, y1, x2, y2
    pick = max if mode == "max" else min
    return xyxy(pick(group, key=lambda d: d["width"] * d["height"]))


def _mask(d: dict[str, Any], shape: tuple[int, int]) -> np.ndarray:
    mask = np.zeros(shape, np.uint8)
    if d.get("points"):
        cv2.fillPoly(mask, [np.array([[p["x"], p["y"]] for p in d["points"]], np.int32)], 1)
    return mask.astype(bool)


def _merged_mask(group: list[dict[str, Any]], mode: str, shape: tuple[int, int]) -> np.ndarray:
    masks = [_mask(d, shape) for d in group]
    if mode == "union":
        return np.any(masks, axis=0)
    if mode == "intersection":
        return np.all(masks, axis=0)
    areas = [int(m.sum()) for m in masks]
    return masks[areas.index(max(areas) if mode == "max" else min(areas))]


def _merge(group: list[dict[str, Any]], p: dict[str, Any], shape: tuple[int, int]) -> dict[str, Any]:
    name, class_id = _class_of(group, p["detections_merge_confidence_aggregation"])
    merged: dict[str, Any] = {"class": name, "class_id": class_id, "detection_id": str(uuid.uuid4()),
                              "confidence": AGGREGATE[p["detections_merge_confidence_aggregation"]](
                                  [float(d["confidence"]) for d in group])}
    if any(d.get("points") for d in group):  # segmentation: the box is the merged mask's
        mask = _merged_mask(group, p["detections_merge_mask_aggregation"], shape)
        ys, xs = np.nonzero(mask)
        x1, y1, x2, y2 = (float(xs.min()), float(ys.min()), float(xs.max()) + 1, float(ys.max()) + 1) \
            if len(xs) else (0.0, 0.0, 0.0, 0.0)
        contours, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        outline = max(contours, key=cv2.contourArea).reshape(-1, 2) if contours else np.zeros((0, 2))
        merged["points"] = [{"x": float(x), "y": float(y)} for x, y in outline]
    else:
        x1, y1, x2, y2 = _box(group, p["detections_merge_coordinates_aggregation"])
    return with_xyxy(merged, x1, y1, x2, y2)


def _presence(found: list[dict[str, Any]], p: dict[str, Any]) -> tuple[bool, dict[str, float]]:
    if not found:
        return False, {}
    required = p["required_objects"] or 0
    if isinstance(required, dict) and not p["class_aware"]:
        required = sum(required.values())
    if isinstance(required, int) and len(found) < required:
        return False, {}
    aggregate = AGGREGATE[p["presence_confidence_aggregation"]]
    if not p["class_aware"]:
        return True, {"any_object": aggregate([float(d["confidence"]) for d in found])}
    by_class: dict[str, list[float]] = {}
    for d in found:
        by_class.setdefault(d["class"], []).append(float(d["confidence"]))
    if isinstance(required, dict) and any(len(by_class.get(c, [])) < n for c, n in required.items()):
        return False, {}
    return True, {c: aggregate(values) for c, values in by_class.items()}


def run(_: Any, p: dict[str, Any]) -> dict[str, Any]:
    sources: list[Detections] = [s for s in p["predictions_batches"] if isinstance(s, Detections)]
    if not sources:
        raise ValueError("detections_consensus needs at least one source of predictions")
    first = sources[0]
    if all(not s.items for s in sources):
        return {"predictions": first.with_items([]), "object_present": False, "presence_confidence": {}}
    wanted = p["classes_to_consider"]
    items = [[d for d in s.items if not wanted or d["class"] in wanted] for s in sources]
    considered: set[str] = set()
    found: list[dict[str, Any]] = []
    for source, detections in enumerate(items):
        for d in detections:
            if d["detection_id"] in considered:
                continue
            best: dict[int, tuple[dict[str, Any], float]] = {}
            for other, others in enumerate(items):
                if other == source:
                    continue
                for o in others:
                    if o["detection_id"] in considered or (p["class_aware"] and o["class"] != d["class"]):
                        continue
                    iou = box_iou(xyxy(d), xyxy(o))
                    if iou > p["iou_threshold"] and (other not in best or best[other][1] < iou):
                        best[other] = (o, iou)
            if len(best) < p["required_votes"] - 1:
                continue
            merged = _merge([d] + [o for o, _ in best.values()], p, (first.height, first.width))
            if merged["confidence"] < p["confidence"]:
                continue
            found.append(merged)
            considered |= {d["detection_id"], *(o["detection_id"] for o, _ in best.values())}
    present, confidence = _presence(found, p)
    return {"predictions": first.with_items(found), "object_present": present, "presence_confidence": confidence}
