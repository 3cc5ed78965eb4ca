"""What Roboflow's ``roboflow_core/image_preprocessing@v1`` does, as the built-in executor runs it."""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

from worker_svc.workflows.values import Image


def _resize(array: np.ndarray, width: int | None, height: int | None) -> np.ndarray:
    h, w = array.shape[:2]
    if width is None and height is None:
        return array.copy()
    if width is None:
        width = int(w * height / h)
    if height is None:
        height = int(h * width / w)
    return cv2.resize(array, (int(width), int(height)), interpolation=cv2.INTER_AREA)


def _rotate(array: np.ndarray, degrees: int | None) -> np.ndarray:
    """Counter-clockwise by ``degrees``, on a canvas grown to hold the whole rotated image."""
    if not degrees:
        return array.copy()
    h, w = array.shape[:2]
    centre = (w // 2, h // 2)
    matrix = cv2.getRotationMatrix2D(centre, degrees, 1.0)
    cos, sin = abs(matrix[0, 0]), abs(matrix[0, 1])
    new_w, new_h = int(h * sin + w * cos), int(h * cos + w * sin)
    matrix[0, 2] += new_w / 2 - centre[0]
    matrix[1, 2] += new_h / 2 - centre[1]
    return cv2.warpAffine(array, matrix, (new_w, new_h))


_FLIPS = {"vertical": 0, "horizontal": 1, "both": -1}


def run(_: Any, p: dict[str, Any]) -> dict[str, Any]:
    image: Image = p["image"]
    task = p["task_type"]
    if task == "resize":
        width, height = p["width"], p["height"]
        if (width is not None and width <= 0) or (height is not None and height <= 0):
            raise ValueError("width and height must be greater than 0")
        array = _resize(image.array, width, height)
    elif task == "rotate":
        if p["rotation_degrees"] is not None and not -360 <= p["rotation_degrees"] <= 360:
            raise ValueError("rotation_degrees must be between -360 and 360")
        array = _rotate(image.array, p["rotation_degrees"])
    elif task == "flip":
        if p["flip_type"] not in _FLIPS:
            raise ValueError(f"flip_type must be one of {sorted(_FLIPS)}, not {p['flip_type']!r}")
        array = cv2.flip(image.array, _FLIPS[p["flip_type"]])
    else:
        raise ValueError(f"task_type must be resize, rotate or flip, not {task!r}")
    return {"image": image.redrawn(array)}
