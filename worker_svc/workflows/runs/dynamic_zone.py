"""Roboflow's dynamic zone: each segmented detection's outline simplified to a polygon of a given number of
vertices — the convex hull of its mask's outline, simplified by Douglas-Peucker with the tolerance found by
bisection; optionally each side refitted by least squares to the outline points between its corners, and the
polygon scaled about its centroid. The zones feed perspective correction and time in zone."""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

from worker_svc.workflows.values import Detections, outline

_STEPS = 1000  # bisection steps before giving up on the exact number of vertices


def _simplified(traced: np.ndarray, vertices: int) -> np.ndarray:
    hull = cv2.convexHull(traced.astype(np.int32), returnPoints=True, clockwise=True)
    low, high = 1e-7, cv2.arcLength(hull, True)
    epsilon = low + high / 2
    polygon = cv2.approxPolyDP(hull, epsilon, True)
    for _ in range(_STEPS):
        if len(polygon) == vertices:
            break
        if len(polygon) > vertices:
            low = epsilon
        else:
            high = epsilon
        epsilon = low + (high - low) / 2
        polygon = cv2.approxPolyDP(hull, epsilon, True)
    return polygon.reshape(-1, 2)


def _line(points: np.ndarray) -> tuple[float, float] | None:
    """y = a x + b through the points by least squares."""
    if len(points) < 2:
        return None
    a, b = np.linalg.lstsq(np.vstack([points[:, 0], np.ones(len(points))]).T, points[:, 1], rcond=None)[0]
    return float(a), float(b)


def _least_squares(traced: np.ndarray, polygon: np.ndarray, middle: float) -> np.ndarray:
    """Each side replaced by the line fitted to the outline between its corners (its middle ``middle`` share),
    the corners moved to where neighbouring lines cross."""
    def turn(points: np.ndarray) -> float:
        return float(cv2.contourArea(points.astype(np.float32), oriented=True))

    if turn(traced) * turn(polygon) < 0:  # walk the outline the way the corners go round
        traced = traced[::-1]

    def nearest(point: np.ndarray) -> int:
        return int(np.argmin(np.linalg.norm(traced - point, axis=1)))

    lines = []
    for start, end in zip(np.roll(polygon, 1, axis=0), polygon, strict=True):
        i, j = nearest(start), nearest(end)
        between = traced[i:j + 1] if i <= j else np.concatenate((traced[i:], traced[:j + 1]))
        keep = round(len(between) * middle)
        if middle < 1 and keep > 2:
            cut = (len(between) - keep) // 2
            between = between[cut:len(between) - cut]
        lines.append(_line(between))
    corners = []
    for first, second in zip(lines, lines[1:] + lines[:1], strict=True):
        if first is None or second is None or np.isclose(first[0], second[0]):
            raise ValueError("apply_least_squares: two sides of the zone are parallel or too short to fit")
        x = (second[1] - first[1]) / (first[0] - second[0])
        corners.append((x, first[0] * x + first[1]))
    return np.array(corners).round().astype(int)


def _scaled(polygon: np.ndarray, ratio: float) -> np.ndarray:
    moments = cv2.moments(polygon.astype(np.float32))
    if ratio == 1 or moments["m00"] == 0:
        return polygon
    centre = np.array([moments["m10"], moments["m01"]]) / moments["m00"]
    return ((polygon - centre) * ratio + centre).round().astype(np.int32)


def run(_: Any, p: dict[str, Any]) -> dict[str, Any]:
    detections: Detections = p["predictions"]
    vertices = int(p["required_number_of_vertices"])
    middle = float(p["midpoint_fraction"])
    if vertices < 1 or not 0 < middle <= 1:
        raise ValueError("required_number_of_vertices must be positive and midpoint_fraction in (0, 1]")
    zones, items, converged = [], [], True
    for d in detections.items:
        traced = outline(d)
        polygon = _simplified(traced, vertices)
        if p["apply_least_squares"]:
            polygon = _least_squares(traced, polygon, middle)
        if len(polygon) != vertices:  # padded with its last corner, or cut, as Roboflow's
            converged = False
            polygon = np.concatenate([polygon, np.repeat(polygon[-1:], max(0, vertices - len(polygon)), axis=0)])
            polygon = polygon[:vertices]
        polygon = _scaled(polygon.astype(np.int32), float(p["scale_ratio"]))
        zones.append(polygon.tolist())
        items.append({**d, "points": [{"x": float(x), "y": float(y)} for x, y in polygon],
                      "polygon": polygon.tolist()})
    return {"zones": zones, "predictions": detections.with_items(items), "simplification_converged": converged}
