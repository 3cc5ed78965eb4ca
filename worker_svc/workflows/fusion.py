"""Roboflow's analysis blocks of the built-in executor, as Roboflow's engine computes them: overlap analysis,
nearest neighbours between two sets of detections, the minimum-area rectangle of a mask and template matching."""

from __future__ import annotations

import uuid
from typing import Any

import cv2
import numpy as np
import supervision as sv
from shapely.geometry import Polygon, box

from worker_svc.workflows.sv_bridge import to_sv
from worker_svc.workflows.values import Detections, Image, with_xyxy, xyxy


def _shape(d: dict[str, Any]) -> Polygon:
    """A detection's polygon where it has a valid one, else its box."""
    points = d.get("points") or []
    if len(points) >= 3:
        polygon = Polygon([(float(q["x"]), float(q["y"])) for q in points])
        if polygon.is_valid and not polygon.is_empty:
            return polygon
    return box(*xyxy(d))


def overlap_analysis(_: Any, p: dict[str, Any]) -> dict[str, Any]:
    """Every (reference, candidate) pair whose shapes overlap by at least ``min_overlap`` of the reference's
    area: their classes, confidences, ids and that share."""
    references: Detections = p["reference_predictions"]
    candidates: Detections = p["candidate_predictions"]
    minimum = float(p["min_overlap"])
    shapes = [(c, box(*xyxy(c)), _shape(c)) for c in candidates.items]  # each candidate's, built once
    overlaps = []
    for r in references.items:
        reference, around = _shape(r), box(*xyxy(r))
        for c, c_box, candidate in shapes:
            if reference.area <= 0 or not around.intersects(c_box):
                continue
            ratio = reference.intersection(candidate).area / reference.area
            if ratio <= 0 or ratio < minimum:
                continue
            overlaps.append({"reference_class": r.get("class"), "reference_confidence": r.get("confidence"),
                             "candidate_class": c.get("class"), "candidate_confidence": c.get("confidence"),
                             "overlap_ratio": float(ratio), "reference_detection_id": r.get("detection_id"),
                             "candidate_detection_id": c.get("detection_id")})
    return {"overlaps": overlaps}


_TIE_PX = 1.0  # targets this close to the nearest distance are matched as well (Roboflow's tie epsilon)


def _points(detections: Detections, point: str, keypoint: str | None, which: str) -> np.ndarray:
    if point != "KEYPOINT":
        if point not in sv.Position.list():
            raise ValueError(f"{which}_point must be one of {sv.Position.list()} or KEYPOINT, not {point!r}")
        return to_sv(detections).get_anchors_coordinates(sv.Position(point)).astype(np.float64).reshape(-1, 2)
    if not keypoint:
        raise ValueError(f"{which}_keypoint_name must be given when {which}_point is KEYPOINT")
    out = np.full((len(detections.items), 2), np.nan)
    for i, d in enumerate(detections.items):
        if "keypoints" not in d:
            raise ValueError(f"{which}_point is KEYPOINT but the {which} predictions have no keypoints")
        named = [k for k in d["keypoints"] if k.get("class") == keypoint]
        if named:
            out[i] = named[0]["x"], named[0]["y"]
    return out


def detections_nearest_neighbor(_: Any, p: dict[str, Any]) -> dict[str, Any]:
    """For each query detection the distance to its nearest target (not itself, within ``max_distance``); the
    matched pairs, ties within a pixel included."""
    queries: Detections = p["query_predictions"]
    targets: Detections = p["target_predictions"]
    here = _points(queries, p["query_point"], p["query_keypoint_name"], "query")
    there = _points(targets, p["target_point"], p["target_keypoint_name"], "target")
    if not targets.items or not queries.items:
        return {"query_predictions": queries.with_items([{**d, "nearest_target_distance": None}
                                                         for d in queries.items]),
                "matched_query_detections": queries.with_items([]),
                "matched_target_detections": targets.with_items([])}
    distances = np.sqrt(((here[:, None, :] - there[None, :, :]) ** 2).sum(axis=-1))
    same = np.array([[q.get("detection_id") == t.get("detection_id") for t in targets.items] for q in queries.items])
    distances[same] = np.nan
    if p["max_distance"] is not None:
        distances[distances > float(p["max_distance"])] = np.nan
    nearest = np.full(len(queries.items), np.nan)
    valid = ~np.all(np.isnan(distances), axis=1)
    nearest[valid] = np.nanmin(distances[valid], axis=1)
    rows, columns = np.nonzero(distances <= nearest[:, None] + _TIE_PX)
    # the matched queries carry their distance too, as Roboflow's block writes it before selecting them
    measured = [{**d, "nearest_target_distance": None if np.isnan(n) else float(n)}
                for d, n in zip(queries.items, nearest, strict=True)]
    return {"query_predictions": queries.with_items(measured),
            "matched_query_detections": queries.with_items([measured[i] for i in rows]),
            "matched_target_detections": targets.with_items([targets.items[j] for j in columns])}


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


def template_matching(_: Any, p: dict[str, Any]) -> dict[str, Any]:
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

