"""What Roboflow's ``roboflow_core/dominant_color@v1`` does, as the built-in executor runs it."""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

from worker_svc.workflows.values import Image


def run(_: Any, p: dict[str, Any]) -> dict[str, Any]:
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
