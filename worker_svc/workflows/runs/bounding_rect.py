"""Roboflow's bounding rectangle block (``roboflow_core/bounding_rect@v1``), step for step as its engine computes
it, so the answers are the same (``bench.fidelity``): the detection's polygon drawn as a mask at the image's size,
the mask's longest outline, OpenCV's minimum-area rectangle of it with the angle convention of OpenCV 4 (the one
Roboflow's engine runs), its corners truncated to whole pixels, and the new polygon read back from the rectangle's
mask."""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np
import supervision as sv

from worker_svc.workflows.values import Detections, outline, with_xyxy


def min_area_rect(points: np.ndarray) -> tuple[tuple[float, float], float, np.ndarray]:
    """(width, height), angle and corners of the minimum-area rectangle, in OpenCV 4's convention (angle in
    (0, 90]); OpenCV 5 gives the same rectangle with its angle in [-90, 0), its sides swapped and its corners
    starting one further."""
    centre, (w, h), angle = cv2.minAreaRect(points)
    corners = cv2.boxPoints((centre, (w, h), angle))
    if angle < 0:
        if angle == -90:
            angle, corners = 90.0, np.roll(corners, -2, axis=0)
        else:
            angle, (w, h), corners = angle + 90, (h, w), np.roll(corners, -1, axis=0)
    return (w, h), angle, corners


def mask_outline(mask: np.ndarray) -> list[dict[str, float]]:
    """The polygon Roboflow serialises for a mask: its largest outline by area."""
    contours, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_TREE, cv2.CHAIN_APPROX_SIMPLE)
    contour = np.squeeze(max(contours, key=cv2.contourArea), axis=1).reshape(-1, 2)
    return [{"x": float(x), "y": float(y)} for x, y in contour]


def _half(value: float) -> float:
    return float(np.float16(value))  # Roboflow keeps the rectangle's numbers in float16


def run(_: Any, p: dict[str, Any]) -> dict[str, Any]:
    """Each segmented detection's minimum-area (rotated) rectangle: its corners become the polygon and the box
    around them the box; ``rect`` (the corners), ``angle`` and the rectangle's sides are added (the sides are
    serialised over ``width`` and ``height``, as Roboflow's serialiser writes them; later blocks read the box)."""
    detections: Detections = p["predictions"]
    size = (detections.width, detections.height)
    items = []
    for d in detections.items:
        mask = sv.polygon_to_mask(np.round(outline(d)).astype(np.int32), size).astype(bool)
        longest = max(sv.mask_to_polygons(mask), key=len)
        (w, h), angle, corners = min_area_rect(longest)
        corners = np.array(corners, dtype=int)
        x1, y1, x2, y2 = sv.polygon_to_xyxy(corners)
        drawn = sv.polygon_to_mask(corners, size).astype(bool)
        items.append(with_xyxy(d, float(x1), float(y1), float(x2), float(y2)) | {
            "points": mask_outline(drawn), "rect": [[_half(x), _half(y)] for x, y in corners],
            "rect_width": _half(w), "rect_height": _half(h), "angle": _half(angle)})
    return {"detections_with_rect": detections.with_items(items)}
