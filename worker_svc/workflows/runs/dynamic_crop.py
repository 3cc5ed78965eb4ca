"""What the block does: a crop per detection, a nested dimension of images for the steps after it."""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

from worker_svc.workflows.blocks import ModelProvider
from worker_svc.workflows.classical import colour_bgr
from worker_svc.workflows.sv_bridge import mask_of
from worker_svc.workflows.values import Batch, Detections, Image, Placement, moved


def _corners(d: dict[str, Any], w: int, h: int) -> tuple[int, int, int, int]:
    x1 = int(max(0, round(d["x"] - d["width"] / 2)))
    y1 = int(max(0, round(d["y"] - d["height"] / 2)))
    x2 = int(min(w, round(d["x"] + d["width"] / 2)))
    y2 = int(min(h, round(d["y"] + d["height"] / 2)))
    return x1, y1, x2, y2


def run(_: ModelProvider, p: dict[str, Any]) -> dict[str, Any]:
    """A crop per detection, and the detection on it (in the crop's coordinates); with ``mask_opacity`` a
    segmented detection's background is blended towards ``background_color`` (RGB)."""
    image: Image = p["images"]
    dets: Detections = p["predictions"]
    opacity = float(p["mask_opacity"])
    if not 0 <= opacity <= 1:
        raise ValueError("mask_opacity must be between 0 and 1")
    crops, on_crops = Batch(), Batch()
    for d in dets.items:
        x1, y1, x2, y2 = _corners(d, image.width, image.height)
        if x2 <= x1 or y2 <= y1:
            continue
        pixels = image.array[y1:y2, x1:x2].copy()
        if opacity > 0 and d.get("points"):
            inside = mask_of(d, image.width, image.height)[y1:y2, x1:x2, None]
            background = np.empty_like(pixels)
            background[:] = colour_bgr(p["background_color"])
            pixels = cv2.addWeighted(np.where(inside, pixels, background), opacity, pixels, 1.0 - opacity, 0)
        at = image.placement
        cut_at = Placement(
            at.root_id, (at.origin[0] + x1, at.origin[1] + y1), at.root_size, (image.width, image.height)
        )
        crops.append(Image(pixels, parent_id=d["detection_id"], offset=(x1, y1), root_id=image.root, cut_at=cut_at))
        on_crops.append(Detections(x2 - x1, y2 - y1, [moved(d, -x1, -y1)], d["detection_id"], (x1, y1), cut_at))
    return {"crops": crops, "predictions": on_crops}
