"""Detections as supervision's ``sv.Detections`` and back, for the blocks supervision implements (trackers,
zones, annotators) — the same library Roboflow's engine runs them with.

Every detection keeps its Roboflow-serialised fields: the conversion remembers each one's index, and a result
(a subset, maybe with new boxes, tracker ids or times) is mapped back onto the detections it came from.
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np
import supervision as sv

from worker_svc.workflows.values import Detections, with_xyxy, xyxy

INDEX = "conveyor_index"


def to_sv(detections: Detections, *, masks: tuple[int, int] | None = None) -> sv.Detections:
    """``masks``: (width, height) to rasterise polygon ``points`` into masks of (mask, halo, polygon drawings);
    a detection without a polygon fills its box."""
    items = detections.items
    if not items:
        empty = sv.Detections.empty()
        empty.data = {INDEX: np.zeros(0, int), "class_name": np.zeros(0, str)}
        if masks:
            empty.mask = np.zeros((0, masks[1], masks[0]), dtype=bool)
        return empty
    found = sv.Detections(
        xyxy=np.array([xyxy(d) for d in items], dtype=np.float32),
        confidence=np.array([float(d.get("confidence", 1.0)) for d in items], dtype=np.float32),
        class_id=np.array([int(d.get("class_id", 0)) for d in items], dtype=int),
        tracker_id=(np.array([int(d["tracker_id"]) for d in items], dtype=int)
                    if all("tracker_id" in d for d in items) else None),
        data={INDEX: np.arange(len(items)), "class_name": np.array([str(d.get("class", "")) for d in items]),
              **({"time_in_zone": np.array([float(d["time_in_zone"]) for d in items])}
                 if all("time_in_zone" in d for d in items) else {})})
    if masks:
        found.mask = np.stack([mask_of(d, *masks) for d in items])
    return found


def mask_of(d: dict[str, Any], width: int, height: int) -> np.ndarray:
    """The detection's polygon (or else its box) as a boolean mask of an image of that size."""
    mask = np.zeros((height, width), dtype=np.uint8)
    points = d.get("points")
    if points and len(points) >= 3:
        polygon = np.array([[p["x"], p["y"]] for p in points], dtype=np.float32).round().astype(np.int32)
        cv2.fillPoly(mask, [polygon], 1)
    else:  # a detection without a polygon is its box
        x1, y1, x2, y2 = (round(v) for v in xyxy(d))
        mask[max(0, y1):max(0, y2), max(0, x1):max(0, x2)] = 1
    return mask.astype(bool)


def from_sv(origin: Detections, result: sv.Detections, **extra: np.ndarray) -> Detections:
    """The detections of ``origin`` that ``result`` holds, with its boxes, its tracker ids and ``extra`` fields."""
    items = []
    for i, index in enumerate(result.data.get(INDEX, ())):  # an empty result may come without data
        d = dict(origin.items[int(index)])
        x1, y1, x2, y2 = (float(v) for v in result.xyxy[i])
        if (x1, y1, x2, y2) != tuple(float(v) for v in np.asarray(xyxy(d), dtype=np.float32)):
            d = with_xyxy(d, x1, y1, x2, y2)  # a smoothed or predicted box
        if result.tracker_id is not None:
            d["tracker_id"] = int(result.tracker_id[i])
        for key, values in extra.items():
            d[key] = values[i].item() if isinstance(values[i], np.generic) else values[i]
        items.append(d)
    return origin.with_items(items)


def subset(origin: Detections, keep: np.ndarray | list[bool]) -> Detections:
    return origin.with_items([d for d, k in zip(origin.items, keep, strict=True) if k])
