"""Classical image operations of the built-in executor: image preprocessing (resize, rotate, flip), grayscale,
dominant colour."""

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


def image_preprocessing(_: Any, p: dict[str, Any]) -> dict[str, Any]:
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


def convert_grayscale(_: Any, p: dict[str, Any]) -> dict[str, Any]:
    """Grey levels (cv2's BGR -> gray weights), kept as three equal channels so that every block downstream
    (models, visualisations) takes it as it takes any image; it encodes as a grey JPEG."""
    image: Image = p["image"]
    return {"image": image.redrawn(cv2.cvtColor(image.array, cv2.COLOR_BGR2GRAY))}


def dominant_color(_: Any, p: dict[str, Any]) -> dict[str, Any]:
    """The centre of the largest of ``color_clusters`` k-means clusters of the image's pixels (sampled every
    ``min(w, h) // target_size`` pixels), as (r, g, b). Seeded, so one image always gives one colour (Roboflow's
    random start may differ between runs)."""
    image: Image = p["image"]
    clusters, iterations, target = int(p["color_clusters"]), int(p["max_iterations"]), int(p["target_size"])
    if not (0 < clusters <= 10 and 0 < iterations <= 500 and 0 < target <= 250):
        raise ValueError("color_clusters must be 1..10, max_iterations 1..500, target_size 1..250")
    step = max(1, min(image.width, image.height) // target)
    pixels = image.array[::step, ::step].reshape(-1, 3).astype(np.float32)
    clusters = min(clusters, len(pixels))
    cv2.setRNGSeed(0)
    criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, iterations, 1e-3)
    unused_labels = np.zeros((len(pixels), 1), np.int32)  # read only with KMEANS_USE_INITIAL_LABELS
    _, labels, centres = cv2.kmeans(pixels, clusters, unused_labels, criteria, 1, cv2.KMEANS_PP_CENTERS)
    largest = np.bincount(labels.ravel(), minlength=clusters).argmax()
    b, g, r = (int(np.clip(round(float(v)), 0, 255)) for v in centres[largest])
    return {"rgb_color": (r, g, b)}
