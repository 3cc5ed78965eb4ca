"""What Roboflow's ``roboflow_core/overlap_analysis@v1`` does, as the built-in executor runs it."""

from __future__ import annotations

from typing import Any

from shapely.geometry import Polygon, box

from worker_svc.workflows.values import Detections, xyxy


def _shape(d: dict[str, Any]) -> Polygon:
    """A detection's polygon where it has a valid one, else its box."""
    points = d.get("points") or []
    if len(points) >= 3:
        polygon = Polygon([(float(q["x"]), float(q["y"])) for q in points])
        if polygon.is_valid and not polygon.is_empty:
            return polygon
    return box(*xyxy(d))


def run(_: Any, p: dict[str, Any]) -> dict[str, Any]:
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
