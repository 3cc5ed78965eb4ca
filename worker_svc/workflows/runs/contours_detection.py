"""What Roboflow's ``roboflow_core/contours_detection@v1`` does, as the built-in executor runs it."""

from __future__ import annotations

from typing import Any

import cv2

from worker_svc.workflows.values import Image


def run(_: Any, p: dict[str, Any]) -> dict[str, Any]:
    """The outer contours of a binary (thresholded) image, drawn in magenta on its grey levels."""
    image: Image = p["image"]
    grey = cv2.cvtColor(image.array, cv2.COLOR_BGR2GRAY)
    contours, hierarchy = cv2.findContours(grey, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    drawn = cv2.cvtColor(grey, cv2.COLOR_GRAY2BGR)
    cv2.drawContours(drawn, contours, -1, (255, 0, 255), int(p["line_thickness"]))
    return {"image": image.redrawn(drawn), "contours": [c.tolist() for c in contours],
            "hierarchy": hierarchy.tolist() if hierarchy is not None else [], "number_contours": len(contours)}
