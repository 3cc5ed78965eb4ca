"""Instance masks of YOLOv8/YOLO11-seg models: mask coefficients of each kept detection times the prototypes
the model outputs, sigmoid, cut to the box, traced into a polygon in image pixels (Roboflow's ``points``).

Decoding modes, as Roboflow's instance segmentation block names them: ``accurate`` thresholds each mask at the
image's own resolution; ``fast`` at the prototypes' (a quarter of the input side); ``tradeoff`` in between,
``tradeoff_factor`` (0..1) of the way from the prototypes' resolution to the model input's.
"""

from __future__ import annotations

import cv2
import numpy as np


def largest_outline(mask: np.ndarray) -> np.ndarray | None:
    """The outline of the largest region of a binary mask, as (x, y) points, or None when it is empty."""
    contours, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        return None
    return max(contours, key=cv2.contourArea).reshape(-1, 2).astype(np.float64)


def mask_points(coefficients: np.ndarray, protos: np.ndarray, box: tuple[float, float, float, float], *,
                input_size: int, scale: float, pad: tuple[float, float], image_wh: tuple[int, int],
                mode: str = "accurate", tradeoff_factor: float = 0.0) -> list[dict[str, float]]:
    """One detection's polygon. ``box`` is x1, y1, x2, y2 in image pixels; ``scale`` and ``pad`` are the
    letterbox that took the image into the model's square input."""
    m, ph, pw = protos.shape
    logits = (coefficients @ protos.reshape(m, -1)).reshape(ph, pw)
    probability = 1.0 / (1.0 + np.exp(-logits))
    w, h = image_wh
    x1, y1, x2, y2 = box
    if mode == "accurate":
        full = cv2.resize(probability, (input_size, input_size), interpolation=cv2.INTER_LINEAR)
        top, left = round(pad[1]), round(pad[0])
        content = full[top:top + max(1, round(h * scale)), left:left + max(1, round(w * scale))]
        at_image = cv2.resize(content, (w, h), interpolation=cv2.INTER_LINEAR) > 0.5
        inside = np.zeros_like(at_image)
        inside[int(max(0, y1)):int(np.ceil(min(h, y2))), int(max(0, x1)):int(np.ceil(min(w, x2)))] = True
        outline = largest_outline(at_image & inside)
        if outline is None:
            return []
        points = outline
    else:
        side = pw if mode == "fast" else round(pw + min(max(tradeoff_factor, 0.0), 1.0) * (input_size - pw))
        resized = cv2.resize(probability, (side, side), interpolation=cv2.INTER_LINEAR) > 0.5
        per_pixel = input_size / side  # model-input pixels per pixel of this resolution
        # the box in this resolution's pixels
        bx1, by1 = (x1 * scale + pad[0]) / per_pixel, (y1 * scale + pad[1]) / per_pixel
        bx2, by2 = (x2 * scale + pad[0]) / per_pixel, (y2 * scale + pad[1]) / per_pixel
        inside = np.zeros_like(resized)
        inside[int(max(0, by1)):int(np.ceil(by2)), int(max(0, bx1)):int(np.ceil(bx2))] = True
        outline = largest_outline(resized & inside)
        if outline is None:
            return []
        points = (outline * per_pixel - np.array(pad)) / scale
    points[:, 0] = points[:, 0].clip(0, w)
    points[:, 1] = points[:, 1].clip(0, h)
    return [{"x": round(float(x), 1), "y": round(float(y), 1)} for x, y in points]

