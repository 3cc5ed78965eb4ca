"""What Roboflow's ``roboflow_core/stitch_ocr_detections@v1`` does, as the built-in executor runs it."""

from __future__ import annotations

from typing import Any

import numpy as np

from worker_svc.workflows import ocr_layout
from worker_svc.workflows.values import Detections, xyxy

_DIRECTIONS = ("left_to_right", "right_to_left", "vertical_top_to_bottom", "vertical_bottom_to_top", "auto")


def run(_: Any, p: dict[str, Any]) -> dict[str, Any]:
    """The classes of OCR detections (characters, words) in reading order: grouped into lines by their top (or
    left, read vertically) rounded to ``tolerance``, lines joined by a newline (a space, read vertically)."""
    detections: Detections = p["predictions"]
    direction, tolerance = p["reading_direction"], int(p["tolerance"])
    if direction not in _DIRECTIONS:
        raise ValueError(f"reading_direction must be one of {_DIRECTIONS}, not {direction!r}")
    if tolerance <= 0:
        raise ValueError("tolerance must be greater than 0")
    if not detections.items:
        return {"ocr_text": ""}
    boxes = np.array([xyxy(d) for d in detections.items]).round().astype(int)
    if direction == "auto":
        widths, heights = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
        direction = "left_to_right" if widths.mean() > heights.mean() else "vertical_top_to_bottom"
    algorithm = p.get("stitching_algorithm", "tolerance")  # v2's; v1 has only the tolerance
    if algorithm in ("otsu", "collimate"):
        exact = np.array([xyxy(d) for d in detections.items], dtype=np.float64)
        names = [str(d.get("class", "")) for d in detections.items]
        if algorithm == "otsu":
            return {"ocr_text": ocr_layout.by_gaps(exact, names, direction, str(p["delimiter"]),
                                                   float(p["otsu_threshold_multiplier"]))}
        return {"ocr_text": ocr_layout.by_alignment(exact, names, direction, str(p["delimiter"]),
                                                    int(p["collimate_tolerance"]))}
    if algorithm != "tolerance":
        raise ValueError(f"stitching_algorithm must be tolerance, otsu or collimate, not {algorithm!r}")
    vertical = direction.startswith("vertical")
    if vertical:
        boxes = boxes[:, [1, 0, 3, 2]]
    lines: dict[float, list[int]] = {}
    for i, key in enumerate(np.round(boxes[:, 1] / tolerance) * tolerance):
        lines.setdefault(float(key), []).append(i)
    backwards = direction in ocr_layout.BACKWARDS
    parts: list[str] = []
    for n, key in enumerate(sorted(lines, reverse=direction == "vertical_bottom_to_top")):
        members = sorted(lines[key], key=lambda i: -boxes[i, 0] if backwards else boxes[i, 0])
        parts += [str(detections.items[i].get("class", "")) for i in members]
        if n < len(lines) - 1:
            parts.append(ocr_layout.line_separator(direction))
    return {"ocr_text": str(p["delimiter"]).join(parts)}
