"""What Roboflow's visualisation blocks share (their runs are ``worker_svc/workflows/runs/*_visualization.py``):
supervision's annotators with Roboflow's palettes, drawn as Roboflow's engine draws them. Detections without a
mask are drawn by their box where a drawing needs a mask (mask, halo, polygon)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import cv2
import numpy as np
import supervision as sv

from worker_svc.workflows.sv_bridge import mask_of, to_sv
from worker_svc.workflows.values import Classification, Detections, Image, tracked, xyxy
from worker_svc.workflows.video_state import VideoFrame

_CAPITALISED = {"Greys_R", "Purples_R", "Blues_R", "Greens_R", "Oranges_R", "Reds_R", "Wistia", "Pastel1", "Pastel2",
                "Paired", "Accent", "Dark2", "Set1", "Set2", "Set3"}
_AXES = {"INDEX", "CLASS", "TRACK"}


class _WrappingPalette(sv.ColorPalette):
    """Indices beyond the palette wrap around (Roboflow's palettes do, negative tracker ids included)."""

    def by_idx(self, idx: int) -> sv.Color:
        return self.colors[idx % len(self.colors)]


def colour(value: str) -> sv.Color:
    """``#RRGGBB``, ``rgb(r, g, b)``, ``bgr(b, g, r)`` or a colour name (``WHITE``), as Roboflow reads them."""
    text = str(value).strip()
    if text.startswith("#"):
        return sv.Color.from_hex(text)
    if text.startswith(("rgb(", "bgr(")) and text.endswith(")"):
        a, b, c = (int(v) for v in text[4:-1].split(","))
        return sv.Color(a, b, c) if text.startswith("rgb") else sv.Color(c, b, a)
    if hasattr(sv.Color, text.upper()) and isinstance(getattr(sv.Color, text.upper()), sv.Color):
        return getattr(sv.Color, text.upper())
    raise ValueError(f"invalid colour {value!r}: use #RRGGBB, rgb(R, G, B), bgr(B, G, R) or a name like WHITE")


def palette(p: dict[str, Any]) -> _WrappingPalette:
    name = str(p["color_palette"])
    if name == "CUSTOM":
        colours = [colour(c) for c in p["custom_colors"] or []]
        if not colours:
            raise ValueError("color_palette CUSTOM needs custom_colors")
        return _WrappingPalette(colours)
    if name in ("DEFAULT", "ROBOFLOW", "LEGACY"):
        return _WrappingPalette(getattr(sv.ColorPalette, name).colors)
    if not name.startswith("Matplotlib "):
        raise ValueError(f"unknown color_palette {name!r}")
    cmap = name.removeprefix("Matplotlib ")
    cmap = cmap.capitalize() if cmap in _CAPITALISED else cmap.lower()
    try:
        return _WrappingPalette(sv.ColorPalette.from_matplotlib(cmap, int(p["palette_size"])).colors)
    except ValueError as exc:
        raise ValueError(f"unknown color_palette {name!r}") from exc


def lookup(p: dict[str, Any]) -> sv.ColorLookup:
    if p["color_axis"] not in _AXES:
        raise ValueError(f"color_axis must be one of {sorted(_AXES)}, not {p['color_axis']!r}")
    return getattr(sv.ColorLookup, p["color_axis"])


def position(p: dict[str, Any], key: str = "position") -> sv.Position:
    if p[key] not in sv.Position.list():
        raise ValueError(f"{key} must be one of {sv.Position.list()}, not {p[key]!r}")
    return sv.Position(p[key])


def coloured(p: dict[str, Any]) -> dict[str, Any]:
    return {"color": palette(p), "color_lookup": lookup(p)}


_LABELS: dict[str, Callable[[dict[str, Any], int], str]] = {
    "Class": lambda d, i: str(d.get("class", "")),
    "Confidence": lambda d, i: f"{float(d.get('confidence', 0.0)):.2f}",
    "Class and Confidence": lambda d, i: f"{d.get('class', '')} {float(d.get('confidence', 0.0)):.2f}",
    "Tracker Id": lambda d, i: str(d["tracker_id"]) if "tracker_id" in d else "No Tracker ID",
    "Time In Zone": lambda d, i: f"In zone: {round(d['time_in_zone'], 2)}s" if d.get("time_in_zone") else
    "In zone: N/A",
    "Index": lambda d, i: str(i),
    "Dimensions": lambda d, i: f"{int(d['x'])}, {int(d['y'])} {int(d['width'])}x{int(d['height'])}",
    "Area": lambda d, i: str(int(d["width"] * d["height"])),
}


# label v2's "Automatic" text size: the scale given is for an image whose shorter side is 1,080 px
_REFERENCE_SIDE, _SCALES = 1080, (0.3, 5.0)


def _text_scale(p: dict[str, Any]) -> float:
    mode = p.get("text_size_mode", "Manual")
    if mode == "Manual":
        return float(p["text_scale"])
    if mode != "Automatic":
        raise ValueError(f"text_size_mode must be 'Manual' or 'Automatic', not {mode!r}")
    image: Image = p["image"]
    return min(max(float(p["text_scale"]) * min(image.width, image.height) / _REFERENCE_SIDE, _SCALES[0]),
               _SCALES[1])


def label_annotator(p: dict[str, Any]) -> sv.LabelAnnotator:
    if p["text"] not in _LABELS:
        raise ValueError(f"text must be one of {sorted(_LABELS)}, not {p['text']!r}")
    return sv.LabelAnnotator(**coloured(p), text_position=position(p, "text_position"),
                             text_color=colour(p["text_color"]), text_scale=_text_scale(p),
                             text_thickness=int(p["text_thickness"]), text_padding=int(p["text_padding"]),
                             border_radius=int(p["border_radius"]))


def box_annotator(p: dict[str, Any]) -> Any:
    if float(p["roundness"]) == 0:
        return sv.BoxAnnotator(**coloured(p), thickness=int(p["thickness"]))
    if not 0 < float(p["roundness"]) <= 1:
        raise ValueError("roundness must be between 0 and 1")
    return sv.RoundBoxAnnotator(**coloured(p), thickness=int(p["thickness"]), roundness=float(p["roundness"]))


def positive(p: dict[str, Any], key: str) -> int:
    if int(p[key]) <= 0:
        raise ValueError(f"{key} must be greater than 0")
    return int(p[key])


def _keypoint_annotator(p: dict[str, Any]) -> Any:
    kind = p["annotator_type"]
    if kind == "edge":
        edges = p["edges"]
        if edges is not None and (not isinstance(edges, list) or not all(
                isinstance(e, list | tuple) and len(e) == 2 for e in edges)):
            raise ValueError("edges must be a list of pairs of keypoint indices")
        return sv.EdgeAnnotator(color=colour(p["color"]), thickness=int(p["thickness"]),
                                edges=[tuple(e) for e in edges] if edges else None)
    if kind == "vertex":
        return sv.VertexAnnotator(color=colour(p["color"]), radius=int(p["radius"]))
    if kind == "vertex_label":
        return sv.VertexLabelAnnotator(color=colour(p["color"]), text_color=colour(p["text_color"]),
                                       text_scale=float(p["text_scale"]), text_thickness=int(p["text_thickness"]),
                                       text_padding=int(p["text_padding"]), border_radius=int(p["radius"]))
    raise ValueError(f"annotator_type must be edge, vertex or vertex_label, not {kind!r}")


def _key_points(detections: Detections) -> sv.KeyPoints:
    """Each detection's keypoints by index; those left out (below keypoint_confidence) at (0, 0), which the
    annotators skip."""
    count = 1 + max((k["class_id"] for d in detections.items for k in d.get("keypoints", [])), default=-1)
    xy = np.zeros((len(detections.items), count, 2), np.float32)
    confidence = np.zeros((len(detections.items), count), np.float32)
    for i, d in enumerate(detections.items):
        for k in d.get("keypoints", []):
            xy[i, k["class_id"]] = (k["x"], k["y"])
            confidence[i, k["class_id"]] = k["confidence"]
    return sv.KeyPoints(xy=xy, keypoint_confidence=confidence,
                        class_id=np.array([int(d.get("class_id", 0)) for d in detections.items], dtype=int))


def keypoint_visualization(_models: Any, p: dict[str, Any]) -> dict[str, Any]:
    image: Image = p["image"]
    detections: Detections = p["predictions"]
    if detections.items and not any("keypoints" in d for d in detections.items):
        raise ValueError("keypoint_visualization needs a keypoint detection model's predictions")
    annotator = _keypoint_annotator(p)
    scene = _canvas(p)
    if detections.items:
        scene = annotator.annotate(scene=scene, key_points=_key_points(detections))
    return {"image": image.redrawn(scene)}


_CLASS_TEXT = {"Class": lambda c: str(c["class"]), "Confidence": lambda c: f"{c['confidence']:.2f}",
               "Class and Confidence": lambda c: f"{c['class']} {c['confidence']:.2f}"}


def classification_label_visualization(_models: Any, p: dict[str, Any]) -> dict[str, Any]:
    """A classifier's result written on the image, as Roboflow lays it out: the top class of a single-label
    model, every predicted class of a multi-label one (most confident first), stacked from the chosen side."""
    image: Image = p["image"]
    result = p["predictions"]
    payload = result.payload if isinstance(result, Classification) else result
    if not isinstance(payload, dict) or "predictions" not in payload:
        raise ValueError("classification_label_visualization needs a classification model's predictions")
    if p["text"] not in _CLASS_TEXT:
        raise ValueError(f"text must be one of {sorted(_CLASS_TEXT)}, not {p['text']!r}")
    if isinstance(payload["predictions"], list):  # single-label: the top class only
        shown = sorted(payload["predictions"], key=lambda c: c["confidence"], reverse=True)[:1]
    else:
        shown = sorted(({"class": name, **payload["predictions"][name]} for name in payload["predicted_classes"]),
                       key=lambda c: c["confidence"], reverse=True)
    scene = _canvas(p)
    if shown:
        w, h = payload["image"]["width"], payload["image"]["height"]
        spacing = 20 * float(p["text_scale"]) + int(p["text_padding"]) * 2 + int(p["text_thickness"]) * 2 + 5
        position = p["text_position"]
        labels = [_CLASS_TEXT[p["text"]](c) for c in shown]
        if position.startswith("BOTTOM"):
            shown, labels = shown[::-1], labels[::-1]
            boxes = [[0, 0, w, h - (spacing + i * spacing)] for i in range(len(shown))]
        elif position.startswith("CENTER"):
            top = max(0.0, min((h - spacing * len(shown)) / 2, h - spacing * len(shown)))
            width = max(len(label) for label in labels) * 15 * float(p["text_scale"]) + int(p["text_padding"]) * 2
            margin = width + 20 + max(0, 10 - int(p["text_padding"])) * 3
            left, right = (margin, w) if position == "CENTER_LEFT" else (0, w - margin) if \
                position == "CENTER_RIGHT" else (0, w)
            boxes = [[left, top + i * spacing, right, top + (i + 1) * spacing] for i in range(len(shown))]
        else:
            boxes = [[0, spacing + i * spacing, w, h] for i in range(len(shown))]
        stand_ins = sv.Detections(xyxy=np.array(boxes, dtype=np.float32),
                                  class_id=np.array([int(c["class_id"]) for c in shown]),
                                  confidence=np.array([float(c["confidence"]) for c in shown]),
                                  tracker_id=np.zeros(len(shown), dtype=int))
        scene = label_annotator({**p, "text": "Class"}).annotate(scene=scene, detections=stand_ins, labels=labels)
    return {"image": image.redrawn(scene)}


def _canvas(p: dict[str, Any]) -> np.ndarray:
    """What a drawing is made on: a copy of the image, or with ``copy_image`` false the image itself."""
    image: Image = p["image"]
    return image.array.copy() if p["copy_image"] else image.array


def _draw(annotator: Any, p: dict[str, Any], masks: bool | str) -> dict[str, Any]:
    image: Image = p["image"]
    detections: Detections = p["predictions"]
    scene = _canvas(p)
    if masks == "polygons":
        masks = any(d.get("points") for d in detections.items)
    if detections.items:
        found = to_sv(detections, masks=(image.width, image.height) if masks else None)
        if isinstance(annotator, sv.LabelAnnotator):
            labels = [_LABELS[p["text"]](d, i) for i, d in enumerate(detections.items)]
            scene = annotator.annotate(scene=scene, detections=found, labels=labels)
        else:
            scene = annotator.annotate(scene=scene, detections=found)
    return {"image": image.redrawn(scene)}


def _covered(detections: Detections, width: int, height: int) -> np.ndarray:
    """Where the detections lie: their masks (polygons), else their boxes (corners truncated, as Roboflow's)."""
    covered = np.zeros((height, width), bool)
    for d in detections.items:
        if d.get("points"):
            covered |= mask_of(d, width, height)
        else:
            x1, y1, x2, y2 = (max(0, int(v)) for v in xyxy(d))
            covered[y1:y2, x1:x2] = True
    return covered


def model_comparison_visualization(_models: Any, p: dict[str, Any]) -> dict[str, Any]:
    """Where only model A found something in ``color_a``, only model B in ``color_b``, neither in
    ``background_color`` (each blended at ``opacity``); where both did, the image as it is."""
    image: Image = p["image"]
    opacity = float(p["opacity"])
    if not 0 <= opacity <= 1:
        raise ValueError("opacity must be between 0 and 1")
    scene = _canvas(p)
    a = _covered(p["predictions_a"], scene.shape[1], scene.shape[0])
    b = _covered(p["predictions_b"], scene.shape[1], scene.shape[0])
    for where, key in ((~a & ~b, "background_color"), (a & ~b, "color_a"), (b & ~a, "color_b")):
        blended = cv2.addWeighted(scene, 1 - opacity, np.full_like(scene, colour(p[key]).as_bgr()), opacity, 0)
        scene[where] = blended[where]
    return {"image": image.redrawn(scene)}


def reference_path_visualization(_models: Any, p: dict[str, Any]) -> dict[str, Any]:
    """The reference path (a list of points) drawn as an open polyline."""
    image: Image = p["image"]
    path = np.array(p["reference_path"], dtype=np.float64)
    if path.ndim != 2 or path.shape[1] < 2 or len(path) < 2:
        raise ValueError("reference_path must be a list of at least two [x, y] points")
    thickness = positive(p, "thickness")
    scene = _canvas(p)
    cv2.polylines(scene, [path[:, :2].astype(np.int32)], False, colour(p["color"]).as_bgr(), thickness)
    return {"image": image.redrawn(scene)}


Drawn = Callable[[Any, dict[str, Any]], dict[str, Any]]


def drawing(make: Callable[[dict[str, Any]], Any], masks: bool | str) -> Drawn:
    """A visualization block's run: the annotator ``make`` builds from the step's parameters, drawn on its image;
    ``masks``: its drawing needs masks (True), or uses polygons where the detections have them ("polygons")."""
    return lambda _models, p: _draw(make(p), p, masks)


def trace_visualization(p: dict[str, Any], _frame: VideoFrame, state: dict[str, Any]) -> dict[str, Any]:
    """Each track's path over the frames before (the annotator keeps the positions: one per video)."""
    tracked(p["predictions"])
    if "annotator" not in state:
        state["annotator"] = sv.TraceAnnotator(**coloured(p), position=position(p),
                                               trace_length=positive(p, "trace_length"),
                                               thickness=int(p["thickness"]))
    return _draw(state["annotator"], p, False)
