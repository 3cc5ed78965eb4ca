"""What Roboflow's ``roboflow_core/threshold@v1`` does, as the built-in executor runs it."""

from __future__ import annotations

from typing import Any

import cv2

from worker_svc.workflows.values import Image

_FIXED = {"binary": cv2.THRESH_BINARY, "binary_inv": cv2.THRESH_BINARY_INV, "trunc": cv2.THRESH_TRUNC,
          "tozero": cv2.THRESH_TOZERO, "tozero_inv": cv2.THRESH_TOZERO_INV}


def run(_: Any, p: dict[str, Any]) -> dict[str, Any]:
    """On the grey levels for the adaptive and Otsu kinds (which need one channel), per channel otherwise; images
    stay three-channel here (a grayscale block's output is three equal channels)."""
    image: Image = p["image"]
    kind, value, top = p["threshold_type"], p["thresh_value"], int(p["max_value"])
    if kind in _FIXED:
        if value is None:
            raise ValueError(f"threshold_type {kind} needs thresh_value")
        _, out = cv2.threshold(image.array, float(value), top, _FIXED[kind])
    elif kind in ("adaptive_mean", "adaptive_gaussian"):
        method = cv2.ADAPTIVE_THRESH_MEAN_C if kind == "adaptive_mean" else cv2.ADAPTIVE_THRESH_GAUSSIAN_C
        out = cv2.adaptiveThreshold(cv2.cvtColor(image.array, cv2.COLOR_BGR2GRAY), top, method, cv2.THRESH_BINARY,
                                    11, 2)
    elif kind == "otsu":
        _, out = cv2.threshold(cv2.cvtColor(image.array, cv2.COLOR_BGR2GRAY), 0, top,
                               cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    else:
        raise ValueError(f"threshold_type must be one of {[*_FIXED, 'adaptive_mean', 'adaptive_gaussian', 'otsu']}")
    return {"image": image.redrawn(out)}
