"""Roboflow's two static crop blocks (absolute and relative coordinates), which cut the same way."""

from __future__ import annotations

from typing import Any

from worker_svc.workflows.values import Image


def _static_crop(image: Image, x_center: float, y_center: float, width: float, height: float) -> Image | None:
    x1, y1 = round(x_center - width / 2), round(y_center - height / 2)
    x2, y2 = round(x1 + width), round(y1 + height)
    x1, y1, x2, y2 = max(0, x1), max(0, y1), min(image.width, x2), min(image.height, y2)
    if x2 <= x1 or y2 <= y1:
        return None  # outside the image: no crop, as in Roboflow
    return Image(image.array[y1:y2, x1:x2].copy(), parent_id=image.parent_id,
                 offset=(image.offset[0] + x1, image.offset[1] + y1))


def absolute_static_crop(_: Any, p: dict[str, Any]) -> dict[str, Any]:
    return {"crops": _static_crop(p["images"], int(p["x_center"]), int(p["y_center"]), int(p["width"]),
                                  int(p["height"]))}


def relative_static_crop(_: Any, p: dict[str, Any]) -> dict[str, Any]:
    image: Image = p["images"]
    w, h = image.width, image.height
    return {"crops": _static_crop(image, round(w * float(p["x_center"])), round(h * float(p["y_center"])),
                                  round(w * float(p["width"])), round(h * float(p["height"])))}
