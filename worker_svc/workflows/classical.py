"""Roboflow's classical image, detection and formatter blocks of the built-in executor, as Roboflow's engine
computes them: image blur, threshold, morphology, contrast, contours, camera focus, pixel colour count, detections
merge, the overlap filter, the stitching of OCR detections into text, the JSON parser and first non-empty or
default."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

import cv2
import numpy as np

from worker_svc.workflows import ocr_layout
from worker_svc.workflows.values import Detections, Image, box_around, with_xyxy, xyxy

_ODD_KERNELS = ("gaussian", "median")


def image_blur(_: Any, p: dict[str, Any]) -> dict[str, Any]:
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


_FIXED = {"binary": cv2.THRESH_BINARY, "binary_inv": cv2.THRESH_BINARY_INV, "trunc": cv2.THRESH_TRUNC,
          "tozero": cv2.THRESH_TOZERO, "tozero_inv": cv2.THRESH_TOZERO_INV}


def threshold(_: Any, p: dict[str, Any]) -> dict[str, Any]:
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


def pixel_color_count(_: Any, p: dict[str, Any]) -> dict[str, Any]:
    image: Image = p["image"]
    target = np.array(colour_bgr(p["target_color"]))
    tolerance = int(p["tolerance"])
    mask = cv2.inRange(image.array, target - tolerance, target + tolerance)
    return {"matching_pixels_count": int(cv2.countNonZero(mask))}


def detections_merge(_: Any, p: dict[str, Any]) -> dict[str, Any]:
    """One detection: the union of the boxes, with the lowest confidence among them."""
    detections: Detections = p["predictions"]
    if not detections.items:
        return {"predictions": detections.with_items([])}
    confidence = min(float(d.get("confidence", 1.0)) for d in detections.items)
    merged = with_xyxy({"confidence": confidence, "class": str(p["class_name"]), "class_id": 0,
                        "detection_id": str(uuid.uuid4())}, *box_around(detections.items))
    return {"predictions": detections.with_items([merged])}


def _overlaps(reference: tuple[float, ...], other: tuple[float, ...], kind: str) -> bool:
    if kind == "Center Overlap":  # the other's centre strictly inside the reference box
        x, y = (other[0] + other[2]) / 2, (other[1] + other[3]) / 2
        return reference[0] < x < reference[2] and reference[1] < y < reference[3]
    # any intersection, touching edges included
    return not (other[2] < reference[0] or other[0] > reference[2] or other[3] < reference[1]
                or other[1] > reference[3])


def overlap(_: Any, p: dict[str, Any]) -> dict[str, Any]:
    """The detections that overlap one of ``overlap_class_name`` (its own detections dropped), in their order."""
    detections: Detections = p["predictions"]
    kind, name = p["overlap_type"], str(p["overlap_class_name"])
    if kind not in ("Center Overlap", "Any Overlap"):
        raise ValueError(f"overlap_type must be 'Center Overlap' or 'Any Overlap', not {kind!r}")
    references = [xyxy(d) for d in detections.items if d.get("class") == name]
    kept = [d for d in detections.items
            if d.get("class") != name and any(_overlaps(r, xyxy(d), kind) for r in references)]
    return {"overlaps": detections.with_items(kept)}


_DIRECTIONS = ("left_to_right", "right_to_left", "vertical_top_to_bottom", "vertical_bottom_to_top", "auto")


def stitch_ocr_detections(_: Any, p: dict[str, Any]) -> dict[str, Any]:
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


_JSON_BLOCK = re.compile(r"```json([\s\S]*?)```", flags=re.IGNORECASE)


def json_parser(_: Any, p: dict[str, Any]) -> dict[str, Any]:
    """The expected fields of a JSON text (the first ```json block of it, as language models write), each an
    output (None where missing); ``error_status`` when it does not parse or lacks one of them."""
    text = str(p["raw_json"])
    blocks = _JSON_BLOCK.findall(text)
    try:
        parsed = json.loads(blocks[0] if blocks else text)
    except ValueError:
        return {"error_status": True, **dict.fromkeys(p["expected_fields"])}
    if not isinstance(parsed, dict):
        return {"error_status": True, **dict.fromkeys(p["expected_fields"])}
    fields = {name: parsed.get(name) for name in p["expected_fields"]}
    return {"error_status": any(name not in parsed for name in p["expected_fields"]), **fields}


def first_non_empty_or_default(_: Any, p: dict[str, Any]) -> dict[str, Any]:
    """The first of ``data`` that is not empty (None: its branch did not run), else ``default``."""
    return {"output": next((value for value in p["data"] if value is not None), p["default"])}


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


def contrast_enhancement(_: Any, p: dict[str, Any]) -> dict[str, Any]:
    """Each channel stretched to 0..255 between its ``clip_limit`` percentiles, scaled about mid-grey by
    ``contrast_multiplier``, and with ``normalize_brightness`` brightened in the midtones (gamma 1 / 1.3)."""
    image: Image = p["image"]
    clip = float(p["clip_limit"]) / 100.0
    gain, gamma = float(p["contrast_multiplier"]), (1.0 / 1.3 if p["normalize_brightness"] else 1.0)
    out = np.empty(image.array.shape, np.float32)
    for c in range(image.array.shape[2]):
        channel = image.array[:, :, c].astype(np.float32)
        low, high = np.quantile(channel, [clip, 1 - clip]) if clip > 0 else (channel.min(), channel.max())
        if high <= low:
            out[:, :, c] = channel
            continue
        stretched = (channel - low) / (high - low) * 255.0
        if gain != 1.0:
            stretched = 128.0 + (stretched - 128.0) * gain
        if gamma != 1.0:
            stretched = np.power(np.clip(stretched, 0, 255) / 255.0, gamma) * 255.0
        out[:, :, c] = np.clip(stretched, 0, 255)
    return {"image": image.redrawn(out.astype(np.uint8))}


def contours_detection(_: Any, p: dict[str, Any]) -> dict[str, Any]:
    """The outer contours of a binary (thresholded) image, drawn in magenta on its grey levels."""
    image: Image = p["image"]
    grey = cv2.cvtColor(image.array, cv2.COLOR_BGR2GRAY)
    contours, hierarchy = cv2.findContours(grey, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    drawn = cv2.cvtColor(grey, cv2.COLOR_GRAY2BGR)
    cv2.drawContours(drawn, contours, -1, (255, 0, 255), int(p["line_thickness"]))
    return {"image": image.redrawn(drawn), "contours": [c.tolist() for c in contours],
            "hierarchy": hierarchy.tolist() if hierarchy is not None else [], "number_contours": len(contours)}


def camera_focus(_: Any, p: dict[str, Any]) -> dict[str, Any]:
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
