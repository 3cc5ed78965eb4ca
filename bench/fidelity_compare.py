"""Output-for-output comparison of the built-in executor's answer with Roboflow's engine's (``bench.fidelity``).

Both sides are the serialised outputs of one image: JSON values, with images as decoded pixel arrays. Rules:
detections are matched one to one by class, IoU >= 0.99 and confidence within 1e-3, then compared field by field;
numbers within 1e-3 (relative or absolute); strings, booleans, counts and the set of keys equal; images of the
same size within a mean absolute difference of ``IMAGE_TOLERANCE`` grey levels (both are encoded as JPEG on the
way). Identifiers each executor draws at random (detection and inference ids) are not compared.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

IOU = 0.99
CONFIDENCE = 1e-3
NUMBER = 1e-3
IMAGE_TOLERANCE = 3.0
# drawn at random by each executor (uuid4), or naming one of those (and every "..._detection_id")
RANDOM_KEYS = frozenset({"detection_id", "inference_id", "parent_id", "root_parent_id"})


def _random(key: str) -> bool:
    return key in RANDOM_KEYS or key.endswith("_detection_id")
BOX = ("x", "y", "width", "height")


@dataclass(frozen=True)
class Difference:
    path: str
    why: str
    ours: Any = None
    theirs: Any = None

    def __str__(self) -> str:
        return f"{self.path or '/'}: {self.why}"


def compare(ours: Any, theirs: Any, path: str = "") -> list[Difference]:
    if isinstance(ours, np.ndarray) or isinstance(theirs, np.ndarray):
        return _images(ours, theirs, path)
    if _is_detections(ours) and _is_detections(theirs):
        return _detections(ours, theirs, path)
    if isinstance(ours, dict) and isinstance(theirs, dict):
        return _dicts(ours, theirs, path)
    if isinstance(ours, list) and isinstance(theirs, list):
        if len(ours) != len(theirs):
            return [Difference(path, f"{len(ours)} items, Roboflow's engine {len(theirs)}")]
        return [d for i, (a, b) in enumerate(zip(ours, theirs, strict=True)) for d in compare(a, b, f"{path}/{i}")]
    if _number(ours) and _number(theirs):
        if math.isclose(float(ours), float(theirs), rel_tol=NUMBER, abs_tol=NUMBER):
            return []
        return [Difference(path, f"{ours!r} != {theirs!r}", ours, theirs)]
    if ours != theirs or type(ours) is not type(theirs):
        return [Difference(path, f"{_short(ours)} != {_short(theirs)}", ours, theirs)]
    return []


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 120 else text[:117] + "..."


def _dicts(ours: dict[str, Any], theirs: dict[str, Any], path: str) -> list[Difference]:
    only_ours = sorted(k for k in set(ours) - set(theirs) if not _random(k))
    only_theirs = sorted(k for k in set(theirs) - set(ours) if not _random(k))
    found = [Difference(path, f"keys only the built-in executor gives: {only_ours}")] if only_ours else []
    if only_theirs:
        found.append(Difference(path, f"keys only Roboflow's engine gives: {only_theirs}"))
    for key in sorted(k for k in set(ours) & set(theirs) if not _random(k)):
        found += compare(ours[key], theirs[key], f"{path}/{key}")
    return found


def _is_detections(value: Any) -> bool:
    return (isinstance(value, dict) and isinstance(value.get("predictions"), list) and "image" in value
            and all(isinstance(d, dict) and all(k in d for k in BOX) for d in value["predictions"]))


def iou(a: dict[str, Any], b: dict[str, Any]) -> float:
    ax1, ay1, ax2, ay2 = _corners(a)
    bx1, by1, bx2, by2 = _corners(b)
    w, h = max(0.0, min(ax2, bx2) - max(ax1, bx1)), max(0.0, min(ay2, by2) - max(ay1, by1))
    inter = w * h
    union = (ax2 - ax1) * (ay2 - ay1) + (bx2 - bx1) * (by2 - by1) - inter
    return inter / union if union > 0 else float(_corners(a) == _corners(b))


def _corners(d: dict[str, Any]) -> tuple[float, float, float, float]:
    x, y, w, h = (float(d[k]) for k in BOX)
    return x - w / 2, y - h / 2, x + w / 2, y + h / 2


def _detections(ours: dict[str, Any], theirs: dict[str, Any], path: str) -> list[Difference]:
    found = _dicts({k: v for k, v in ours.items() if k != "predictions"},
                   {k: v for k, v in theirs.items() if k != "predictions"}, path)
    left = list(enumerate(theirs["predictions"]))
    unmatched = []
    for i, ours_one in enumerate(ours["predictions"]):
        match = next((pair for pair in left if _same_object(ours_one, pair[1])), None)
        if match is None:
            unmatched.append(i)
            continue
        left.remove(match)
        found += _dicts({k: v for k, v in ours_one.items() if k not in BOX},
                        {k: v for k, v in match[1].items() if k not in BOX}, f"{path}/predictions/{i}")
    if unmatched or left:
        found.append(Difference(f"{path}/predictions", (
            f"{len(unmatched)} of the built-in executor's {len(ours['predictions'])} detections and {len(left)} "
            f"of Roboflow's engine's {len(theirs['predictions'])} have no match (class, IoU >= {IOU}, "
            f"confidence within {CONFIDENCE})"), "unmatched"))
    return found


def _same_object(a: dict[str, Any], b: dict[str, Any]) -> bool:
    if a.get("class") != b.get("class") or iou(a, b) < IOU:
        return False
    if "confidence" in a or "confidence" in b:
        return abs(float(a.get("confidence", -1)) - float(b.get("confidence", -1))) <= CONFIDENCE
    return True


def _images(ours: Any, theirs: Any, path: str) -> list[Difference]:
    if not (isinstance(ours, np.ndarray) and isinstance(theirs, np.ndarray)):
        return [Difference(path, f"an image on one side only ({type(ours).__name__}, {type(theirs).__name__})")]
    if ours.shape != theirs.shape:
        return [Difference(path, f"image of shape {ours.shape}, Roboflow's engine {theirs.shape}")]
    mean = float(np.abs(ours.astype(np.int16) - theirs.astype(np.int16)).mean())
    if mean > IMAGE_TOLERANCE:
        return [Difference(path, f"images differ by {mean:.1f} grey levels on average (> {IMAGE_TOLERANCE})")]
    return []
