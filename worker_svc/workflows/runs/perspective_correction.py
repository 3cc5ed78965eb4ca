"""Roboflow's perspective correction: a quadrilateral of the image (a road, a table, a field) mapped onto a
``transformed_rect_width`` x ``transformed_rect_height`` rectangle, detections (boxes, polygons, keypoints)
moved into it, and the image warped into it if asked."""

from __future__ import annotations

import math
from typing import Any

import cv2
import numpy as np

from worker_svc.workflows.values import Detections, Image, with_xyxy, xyxy


def _quadrilateral(polygons: Any) -> np.ndarray:
    """The polygon to correct: four [x, y] points, or the largest four-point polygon of a list (a zone block's
    output)."""
    if isinstance(polygons, list) and len(polygons) == 4 and all(
            isinstance(p, list | tuple) and len(p) == 2 and not isinstance(p[0], list | tuple) for p in polygons):
        return np.array(polygons, dtype=np.float64)
    if not isinstance(polygons, list) or not polygons:
        raise ValueError("perspective_polygons must be four [x, y] points or a list of such polygons")
    quads = [np.around(np.array(p, dtype=np.float64)).astype(np.int32) for p in polygons
             if isinstance(p, list | tuple | np.ndarray) and np.array(p).shape == (4, 2)]
    if not quads:
        raise ValueError("no polygon of perspective_polygons has 4 vertices")
    return max(quads, key=lambda q: cv2.contourArea(q)).astype(np.float64)


def _from_bottom_left(polygon: np.ndarray) -> np.ndarray:
    """The corners clockwise (on screen) from the one nearest the bounding box's bottom-left corner, as
    Roboflow orders them before mapping them onto the rectangle's bottom-left, top-left, top-right, bottom-right."""
    cx = polygon[:, 0].min() / 2 + polygon[:, 0].max() / 2
    cy = polygon[:, 1].min() / 2 + polygon[:, 1].max() / 2
    clockwise = np.array(sorted(polygon.tolist(), key=lambda q: math.atan2(cx - q[0], cy - q[1]), reverse=True))
    x1, y1, x2, y2 = clockwise[:, 0].min(), clockwise[:, 1].min(), clockwise[:, 0].max(), clockwise[:, 1].max()
    target = np.array([[x1, y2], [x1, y1], [x2, y1], [x2, y2]])
    best, best_distance = clockwise, float(np.linalg.norm(target - clockwise, axis=1).sum())
    for shift in range(4):
        rolled = np.roll(clockwise, shift, axis=0)
        distance = float(np.linalg.norm(target - rolled, axis=1).sum())
        if distance < best_distance or (distance == best_distance and rolled[0][0] < best[0][0]):
            best, best_distance = rolled, distance
    return best


def _transformed(points: list[dict[str, Any]], matrix: np.ndarray) -> list[dict[str, Any]]:
    if not points:
        return []
    src = np.array([[[q["x"], q["y"]] for q in points]], dtype=np.float32)
    out = cv2.perspectiveTransform(src, matrix).reshape(-1, 2)
    return [{**q, "x": float(x), "y": float(y)} for q, (x, y) in zip(points, out, strict=True)]


def _corrected(d: dict[str, Any], matrix: np.ndarray) -> dict[str, Any]:
    """A detection in the rectangle: its polygon (or else its box's corners) moved, its box their bounds."""
    if d.get("points"):
        outline = _transformed(d["points"], matrix)
    else:
        x1, y1, x2, y2 = (round(v) for v in xyxy(d))
        outline = _transformed([{"x": x1, "y": y1}, {"x": x2, "y": y1}, {"x": x2, "y": y2}, {"x": x1, "y": y2}], matrix)
    xs, ys = [q["x"] for q in outline], [q["y"] for q in outline]
    out = with_xyxy(d, round(min(xs)), round(min(ys)), round(max(xs)), round(max(ys)))
    if d.get("points"):
        out["points"] = outline
    if d.get("keypoints"):
        out["keypoints"] = [{**k, "x": round(k["x"]), "y": round(k["y"])} for k in _transformed(d["keypoints"], matrix)]
    return out


def run(_: Any, p: dict[str, Any]) -> dict[str, Any]:
    image: Image = p["images"]
    width, height = int(p["transformed_rect_width"]), int(p["transformed_rect_height"])
    if width <= 0 or height <= 0:
        raise ValueError("transformed_rect_width and transformed_rect_height must be greater than 0")
    source = _from_bottom_left(_quadrilateral(p["perspective_polygons"])).astype(np.float32)
    target = np.array([[0, height - 1], [0, 0], [width - 1, 0], [width - 1, height - 1]], dtype=np.float32)
    matrix = cv2.getPerspectiveTransform(source, target)
    warped = Image(cv2.warpPerspective(image.array, matrix, (width, height)), parent_id=image.parent_id) \
        if p["warp_image"] else image
    detections: Detections | None = p.get("predictions")
    corrected = None if detections is None else Detections(
        width, height, [_corrected(d, matrix) for d in detections.items], detections.parent_id)
    return {"corrected_coordinates": corrected, "warped_image": warped, "extended_transformed_rect_width": width,
            "extended_transformed_rect_height": height}
