"""What the classical blocks share: colours as Roboflow writes them (``#RRGGBB``, ``#RGB``, ``(r, g, b)``), read by
the pixel colour count and dynamic crop's background, and the morphology both versions of the morphological
transformation block run."""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

from worker_svc.workflows.values import Image


def colour_bgr(colour: Any) -> tuple[int, int, int]:
    """``#RRGGBB``, ``#RGB``, ``(r, g, b)`` text or an (r, g, b) list, as BGR."""
    if isinstance(colour, list | tuple) and len(colour) == 3:
        r, g, b = (int(v) for v in colour)
        return b, g, r
    text = str(colour).strip()
    try:
        if text.startswith("#") and len(text) == 7:
            return int(text[5:7], 16), int(text[3:5], 16), int(text[1:3], 16)
        if text.startswith("#") and len(text) == 4:
            return int(text[3] * 2, 16), int(text[2] * 2, 16), int(text[1] * 2, 16)
        if text.startswith("(") and text.endswith(")"):
            r, g, b = (int(v) for v in text[1:-1].split(","))
            return b, g, r
    except ValueError:
        pass
    raise ValueError(f"invalid colour {colour!r}: use #RRGGBB, #RGB or (r, g, b)")


_MORPHOLOGY = {"Erosion": cv2.MORPH_ERODE, "Dilation": cv2.MORPH_DILATE, "Opening": cv2.MORPH_OPEN,
               "Closing": cv2.MORPH_CLOSE, "Gradient": cv2.MORPH_GRADIENT, "Top Hat": cv2.MORPH_TOPHAT,
               "Black Hat": cv2.MORPH_BLACKHAT}


def morphological_transformation(version: int) -> Any:
    """v1 works on the grey levels, v2 on the colours (and adds "Opening then Closing")."""
    def run(_: Any, p: dict[str, Any]) -> dict[str, Any]:
        image: Image = p["image"]
        operation, size = p["operation"], int(p["kernel_size"])
        known = [*_MORPHOLOGY, *(["Opening then Closing"] if version == 2 else [])]
        if operation not in known:
            raise ValueError(f"operation must be one of {known}, not {operation!r}")
        pixels = cv2.cvtColor(image.array, cv2.COLOR_BGR2GRAY) if version == 1 else image.array
        kernel = np.ones((size, size), np.uint8)
        if operation == "Opening then Closing":
            out = cv2.morphologyEx(cv2.morphologyEx(pixels, cv2.MORPH_OPEN, kernel), cv2.MORPH_CLOSE, kernel)
        else:
            out = cv2.morphologyEx(pixels, _MORPHOLOGY[operation], kernel)
        return {"image": image.redrawn(out)}
    return run
