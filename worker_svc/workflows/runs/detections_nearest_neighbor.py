"""What Roboflow's ``roboflow_core/detections_nearest_neighbor@v1`` does, as the built-in executor runs it."""

from __future__ import annotations

from typing import Any

import numpy as np
import supervision as sv

from worker_svc.workflows.sv_bridge import to_sv
from worker_svc.workflows.values import Detections

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


def run(_: Any, p: dict[str, Any]) -> dict[str, Any]:
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
