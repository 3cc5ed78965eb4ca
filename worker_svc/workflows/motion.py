"""Roboflow's background subtraction and motion detection: OpenCV's MOG2 background model learnt over the
frames of one video (its state is the step's state for that video, so each video starts from an empty model; a
still image is a video of one frame)."""

from __future__ import annotations

import json
import uuid
from typing import Any

import cv2
import numpy as np
from shapely.geometry import Polygon

from worker_svc.workflows.values import Detections, Image, with_xyxy
from worker_svc.workflows.video_state import VideoFrame


def _subtractor(p: dict[str, Any], state: dict[str, Any]) -> Any:
    if "model" not in state:
        history, threshold = int(p["history"]), int(p["threshold"])
        if history <= 0 or threshold <= 0:
            raise ValueError("history and threshold must be positive")
        state["model"] = cv2.createBackgroundSubtractorMOG2(history=history, varThreshold=threshold,
                                                            detectShadows=True)
        state["frames"] = 0
        state["moving"] = False
    return state["model"]


def background_subtraction(p: dict[str, Any], _: VideoFrame, state: dict[str, Any]) -> dict[str, Any]:
    """The foreground mask of this frame (255 moving, 127 shadow, 0 background) as an image."""
    image: Image = p["image"]
    return {"image": image.redrawn(_subtractor(p, state).apply(image.array))}


def _zone(value: Any) -> Polygon | None:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise ValueError("detection_zone must be a list of [x, y] points (or its JSON)") from None
    if not value:
        return None
    points = np.asarray(value, dtype=np.float64)
    if points.ndim != 2 or points.shape[1] != 2 or len(points) < 3:
        raise ValueError("detection_zone must be a list of at least three [x, y] points")
    return Polygon(points)


def _clipped(contours: list[np.ndarray], zone: Polygon) -> list[np.ndarray]:
    """The parts of each contour inside the zone."""
    out = []
    for contour in contours:
        shape = Polygon(contour.reshape(-1, 2)).intersection(zone)
        parts = getattr(shape, "geoms", [shape])
        out += [np.array([[int(x), int(y)] for x, y in part.exterior.coords[:-1]], np.int32).reshape(-1, 1, 2)
                for part in parts if part.geom_type == "Polygon" and not part.is_empty
                and len(part.exterior.coords) > 3]
    return out


def motion_detection(p: dict[str, Any], _: VideoFrame, state: dict[str, Any]) -> dict[str, Any]:
    """Moving regions: the foreground mask opened by an elliptic kernel, its outer contours larger than
    ``minimum_contour_area`` (clipped to ``detection_zone``), simplified; ``alarm`` when motion starts. The first
    ``history`` frames only teach the model when ``suppress_first_detections``."""
    image: Image = p["image"]
    zone = _zone(p["detection_zone"])
    foreground = _subtractor(p, state).apply(image.array)
    if p["suppress_first_detections"] and state["frames"] < int(p["history"]):
        state["frames"] += 1
        return {"motion": False, "alarm": False, "detections": Detections(image.width, image.height, [],
                                                                          image.parent_id, image.offset),
                "motion_zones": []}
    size = int(p["morphological_kernel_size"])
    if size <= 0 or int(p["minimum_contour_area"]) <= 0:
        raise ValueError("morphological_kernel_size and minimum_contour_area must be positive")
    opened = cv2.morphologyEx(foreground, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_ELLIPSE,
                                                                                     (size, size)))
    contours, _hierarchy = cv2.findContours(opened, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    large = [c for c in contours if len(c) > 2 and cv2.contourArea(c) > int(p["minimum_contour_area"])]
    if zone is not None:
        large = _clipped(large, zone)
    items, zones = [], []
    for contour in large:
        simple = cv2.approxPolyDP(contour, 0.01 * cv2.arcLength(contour, True), True)
        if len(simple) < 3:
            continue
        x, y, w, h = cv2.boundingRect(simple)
        items.append(with_xyxy({"confidence": 1.0, "class": "motion", "class_id": 0,
                                "detection_id": str(uuid.uuid4())}, float(x), float(y), float(x + w), float(y + h)))
        zones.append(simple.reshape(-1, 2).tolist())
    moving = bool(large)
    alarm, state["moving"] = moving and not state["moving"], moving
    return {"motion": moving, "alarm": alarm, "motion_zones": zones,
            "detections": Detections(image.width, image.height, items, image.parent_id, image.offset)}
