"""What Roboflow's ``roboflow_core/pixel_color_count@v1`` does, as the built-in executor runs it."""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

from worker_svc.workflows.classical import colour_bgr
from worker_svc.workflows.values import Image


def run(_: Any, p: dict[str, Any]) -> dict[str, Any]:
    image: Image = p["image"]
    target = np.array(colour_bgr(p["target_color"]))
    tolerance = int(p["tolerance"])
    mask = cv2.inRange(image.array, target - tolerance, target + tolerance)
    return {"matching_pixels_count": int(cv2.countNonZero(mask))}
