"""What Roboflow's ``roboflow_core/image_blur@v1`` does, as the built-in executor runs it."""

from __future__ import annotations

from typing import Any

import cv2

from worker_svc.workflows.values import Image

_ODD_KERNELS = ("gaussian", "median")


def run(_: Any, p: dict[str, Any]) -> dict[str, Any]:
    image: Image = p["image"]
    kind, size = p["blur_type"], int(p["kernel_size"])
    if kind in _ODD_KERNELS:
        size = max(1, size) | 1  # these need a positive odd kernel (Roboflow rounds up too)
    if kind == "average":
        out = cv2.blur(image.array, (size, size))
    elif kind == "gaussian":
        out = cv2.GaussianBlur(image.array, (size, size), 0)
    elif kind == "median":
        out = cv2.medianBlur(image.array, size)
    elif kind == "bilateral":
        out = cv2.bilateralFilter(image.array, size, 75, 75)
    else:
        raise ValueError(f"blur_type must be average, gaussian, median or bilateral, not {kind!r}")
    return {"image": image.redrawn(out)}
