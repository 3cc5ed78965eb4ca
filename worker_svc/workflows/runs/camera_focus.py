"""What Roboflow's ``roboflow_core/camera_focus@v1`` does, as the built-in executor runs it."""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

from worker_svc.workflows.values import Image


def run(_: Any, p: dict[str, Any]) -> dict[str, Any]:
    """Brenner's focus measure: the mean of the squared larger of the horizontal and vertical two-pixel
    differences (negative ones count as 0), with the map of it as the image."""
    image: Image = p["image"]
    grey = cv2.cvtColor(image.array, cv2.COLOR_BGR2GRAY).astype(np.int16)
    h, w = grey.shape
    horizontal, vertical = np.zeros((h, w)), np.zeros((h, w))
    horizontal[:, :w - 2] = np.clip(grey[:, 2:] - grey[:, :-2], 0, None)
    vertical[:h - 2, :] = np.clip(grey[2:, :] - grey[:-2, :], 0, None)
    measure = np.maximum(horizontal, vertical) ** 2
    top = float(measure.max())
    drawn = ((measure / top) * 255).astype(np.uint8) if top > 0 else np.zeros(measure.shape, np.uint8)
    cv2.putText(drawn, f"Focus value: {measure.mean():.2f}", (10, 30), cv2.FONT_HERSHEY_SIMPLEX, 1, (255, 255, 255), 2)
    return {"image": image.redrawn(drawn), "focus_measure": float(measure.mean())}
