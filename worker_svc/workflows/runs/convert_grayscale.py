"""What Roboflow's ``roboflow_core/convert_grayscale@v1`` does, as the built-in executor runs it."""

from __future__ import annotations

from typing import Any

import cv2

from worker_svc.workflows.values import Image


def run(_: Any, p: dict[str, Any]) -> dict[str, Any]:
    """Grey levels (cv2's BGR -> gray weights), kept as three equal channels so that every block downstream
    (models, visualisations) takes it as it takes any image; it encodes as a grey JPEG."""
    image: Image = p["image"]
    return {"image": image.redrawn(cv2.cvtColor(image.array, cv2.COLOR_BGR2GRAY))}
