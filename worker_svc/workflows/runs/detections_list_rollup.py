"""Roboflow's detections list roll-up: detections found on crops (a second-stage model on a dynamic crop,
collapsed to one list per image) moved back into the parent image and merged, per class, where they overlap —
boxes into the box around them, masks into their union, keypoint detections whose keypoints lie close together
into their average. Merged confidences by ``confidence_strategy``.

Each crop's position is where it really lies in the parent image (its detections' ``offset``); Roboflow adds the
parent box's corner, the same wherever the box lies inside the image."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import numpy as np

from worker_svc.inference.masks import largest_outline
from worker_svc.workflows.sv_bridge import mask_of
from worker_svc.workflows.values import Detections, box_around, box_iou, moved, with_xyxy, xyxy

_COMBINE: dict[str, Callable[[list[float]], float]] = {
    "max": max, "min": min, "mean": lambda values: float(np.mean(values))}


def run(_: Any, p: dict[str, Any]) -> dict[str, Any]:
    parent: Detections = p["parent_detection"]
    children = [c if c is not None else Detections(0, 0) for c in (p["child_detections"] or [])]
    strategy, threshold = p["confidence_strategy"], float(p["overlap_threshold"])
    if strategy not in _COMBINE:
        raise ValueError(f"confidence_strategy must be one of {sorted(_COMBINE)}, not {strategy!r}")
    if len(children) != len(parent.items):
        raise ValueError(f"the parent has {len(parent.items)} detections but {len(children)} lists of child "
                         "detections came: roll up the collapsed predictions of crops of these parent detections")
    zones = []
    for d in parent.items:
        x1, y1, x2, y2 = (float(v) for v in xyxy(d))
        zones.append([[x1, y1], [x2, y1], [x2, y2], [x1, y2]])
    found = [moved(d, c.offset[0] - parent.offset[0], c.offset[1] - parent.offset[1])
             for c in children for d in c.items]
    by_class: dict[Any, list[dict[str, Any]]] = {}
    for d in found:
        by_class.setdefault(d.get("class_id"), []).append(d)
    combine = _COMBINE[strategy]
    merged: list[dict[str, Any]] = []
    for members in by_class.values():
        if any("keypoints" in d for d in members):
            merged += _merge_keypoints(members, combine, float(p["keypoint_merge_threshold"]))
        elif any(d.get("points") for d in members):
            merged += _merge_masks(members, combine, threshold, parent.width, parent.height)
        else:
            merged += [_box_around(group, combine)
                       for group in _groups(members, threshold, lambda a, b: box_iou(xyxy(a), xyxy(b)))]
    items = [{k: v for k, v in d.items() if k != "parent_id"} | {"detection_id": str(uuid.uuid4())}
             for d in merged]
    return {"rolled_up_detections": parent.with_items(items), "crop_zones": zones}


def _groups(items: list[dict[str, Any]], threshold: float,
            iou: Callable[[dict[str, Any], dict[str, Any]], float]) -> list[list[dict[str, Any]]]:
    """Connected groups of items that overlap (any overlap at threshold 0, else IoU >= threshold), in the order
    of each group's first member."""
    root = list(range(len(items)))

    def find(i: int) -> int:
        while root[i] != i:
            root[i] = root[root[i]]
            i = root[i]
        return i

    for i in range(len(items)):
        for j in range(i + 1, len(items)):
            overlap = iou(items[i], items[j])
            if (overlap > 0) if threshold <= 0 else (overlap >= threshold):
                root[find(i)] = find(j)
    groups: dict[int, list[dict[str, Any]]] = {}
    for i, item in enumerate(items):
        groups.setdefault(find(i), []).append(item)
    return list(groups.values())  # each group where its first member stands


def _confidence(group: list[dict[str, Any]], combine: Callable[[list[float]], float]) -> float:
    return float(combine([float(d.get("confidence", 1.0)) for d in group]))


def _box_around(group: list[dict[str, Any]], combine: Callable[[list[float]], float]) -> dict[str, Any]:
    return with_xyxy(group[0], *box_around(group)) | {"confidence": _confidence(group, combine)}


def _merge_masks(members: list[dict[str, Any]], combine: Callable[[list[float]], float], threshold: float,
                 width: int, height: int) -> list[dict[str, Any]]:
    masks = {id(d): mask_of(d, width, height) for d in members}
    areas = {key: int(m.sum()) for key, m in masks.items()}

    def iou(a: dict[str, Any], b: dict[str, Any]) -> float:
        inter = int(np.count_nonzero(masks[id(a)] & masks[id(b)]))
        union = areas[id(a)] + areas[id(b)] - inter
        return inter / union if union > 0 else 0.0

    out = []
    for group in _groups(members, threshold, iou):
        union = np.logical_or.reduce([masks[id(d)] for d in group])
        outline = largest_outline(union)
        if outline is None:
            continue
        rows, cols = np.nonzero(union)
        out.append(with_xyxy(group[0], float(cols.min()), float(rows.min()), float(cols.max() + 1),
                             float(rows.max() + 1)) | {
            "confidence": _confidence(group, combine),
            "points": [{"x": float(x), "y": float(y)} for x, y in outline]})
    return out


def _merge_keypoints(members: list[dict[str, Any]], combine: Callable[[list[float]], float],
                     distance: float) -> list[dict[str, Any]]:
    """Greedy, as Roboflow's: each detection not yet taken gathers the later ones whose keypoints (the same
    keypoints) lie on average closer than ``distance`` pixels; a group becomes its average."""
    with_points = [d for d in members if d.get("keypoints")]
    out, taken = [], set()
    for i, first in enumerate(with_points):
        if i in taken:
            continue
        group = [first]
        names = [k["class_id"] for k in first["keypoints"]]
        here = np.array([[k["x"], k["y"]] for k in first["keypoints"]])
        for j in range(i + 1, len(with_points)):
            other = with_points[j]
            if j in taken or [k["class_id"] for k in other["keypoints"]] != names:
                continue
            there = np.array([[k["x"], k["y"]] for k in other["keypoints"]])
            if float(np.linalg.norm(here - there, axis=1).mean()) < distance:
                group.append(other)
                taken.add(j)
        out.append(first if len(group) == 1 else _average(group, combine))
    return out + [d for d in members if not d.get("keypoints")]


def _average(group: list[dict[str, Any]], combine: Callable[[list[float]], float]) -> dict[str, Any]:
    box = np.mean([xyxy(d) for d in group], axis=0)
    keypoints = [{**k, "x": float(np.mean([d["keypoints"][n]["x"] for d in group])),
                  "y": float(np.mean([d["keypoints"][n]["y"] for d in group])),
                  "confidence": float(np.mean([d["keypoints"][n].get("confidence", 1.0) for d in group]))}
                 for n, k in enumerate(group[0]["keypoints"])]
    return with_xyxy(group[0], *(float(v) for v in box)) | {"confidence": _confidence(group, combine),
                                                           "keypoints": keypoints}
