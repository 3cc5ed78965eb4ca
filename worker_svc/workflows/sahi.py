"""Slicing-aided inference (SAHI) in the built-in executor: ``image_slicer`` (v1, v2) cuts an image into
overlapping slices, a model runs on all of them (one session call, see ``blocks.run_block``), and
``detections_stitch`` moves the slices' detections back onto the image and merges the overlaps (NMS or NMM),
with Roboflow's semantics."""

from __future__ import annotations

from typing import Any

import numpy as np

from worker_svc.inference.detector import nms
from worker_svc.workflows.values import Batch, Detections, Image, box_iou, with_xyxy, xyxy


def slice_offsets(width: int, height: int, slice_w: int, slice_h: int, overlap_w: float, overlap_h: float, *,
                  version: int) -> list[tuple[int, int, int, int]]:
    """Slice boxes (x1, y1, x2, y2). v1 steps from the top-left corner, so the last slices of a row or column
    may be smaller; v2 pushes those back inside the image, so every slice has the same size, and drops
    duplicates."""
    if version == 2:
        slice_w, slice_h = min(slice_w, width), min(slice_h, height)
    stride_w = slice_w - int(overlap_w * slice_w)
    stride_h = slice_h - int(overlap_h * slice_h)
    xs, ys = np.arange(0, width, stride_w), np.arange(0, height, stride_h)
    if version == 2:
        xs = xs - np.clip(xs + slice_w - width, 0, slice_w)
        ys = ys - np.clip(ys + slice_h - height, 0, slice_h)
    boxes: list[tuple[int, int, int, int]] = []
    for y in ys.tolist():
        for x in xs.tolist():
            box = (x, y, min(x + slice_w, width), min(y + slice_h, height))
            if version == 1 or box not in boxes:
                boxes.append(box)
    return boxes


def image_slicer(version: int) -> Any:
    def run(_: Any, p: dict[str, Any]) -> dict[str, Any]:
        image: Image = p["image"]
        slices = Batch()
        for x1, y1, x2, y2 in slice_offsets(image.width, image.height, int(p["slice_width"]),
                                            int(p["slice_height"]), float(p["overlap_ratio_width"]),
                                            float(p["overlap_ratio_height"]), version=version):
            part = image.array[y1:y2, x1:x2]
            slices.append(Image(part.copy(), parent_id=image.parent_id,
                                offset=(image.offset[0] + x1, image.offset[1] + y1)) if part.size else None)
        return {"slices": slices}
    return run


def _suppress(items: list[dict[str, Any]], iou: float) -> list[dict[str, Any]]:
    """Class-aware non-maximum suppression; the survivors keep their order."""
    keep: list[int] = []
    for class_id in sorted({d["class_id"] for d in items}):
        idx = [i for i, d in enumerate(items) if d["class_id"] == class_id]
        boxes = np.array([xyxy(items[i]) for i in idx], np.float32)
        scores = np.array([items[i]["confidence"] for i in idx], np.float32)
        keep += [idx[k] for k in nms(boxes, scores, iou)]
    return [items[i] for i in sorted(keep)]


def _merge(items: list[dict[str, Any]], iou: float) -> list[dict[str, Any]]:
    """Class-aware non-maximum merging: each most confident box absorbs the boxes of its class that overlap it
    by ``iou`` or more, into their union, with the area-weighted confidence, the winner's class and id."""
    merged: list[dict[str, Any]] = []
    for class_id in sorted({d["class_id"] for d in items}):
        order = sorted((d for d in items if d["class_id"] == class_id), key=lambda d: d["confidence"])
        while order:
            best = order.pop()
            group = [best] + [d for d in reversed(order) if box_iou(xyxy(d), xyxy(best)) >= iou]
            order = [d for d in order if all(d is not g for g in group)]
            box, confidence = xyxy(group[0]), group[0]["confidence"]
            winner = group[0]
            for other in group[1:]:
                ob = xyxy(other)
                area, other_area = (box[2] - box[0]) * (box[3] - box[1]), (ob[2] - ob[0]) * (ob[3] - ob[1])
                confidence = (area * confidence + other_area * other["confidence"]) / (area + other_area)
                if other["confidence"] > winner["confidence"]:
                    winner = other
                box = (min(box[0], ob[0]), min(box[1], ob[1]), max(box[2], ob[2]), max(box[3], ob[3]))
            merged.append({**with_xyxy(winner, *box), "confidence": confidence})
    return merged


def detections_stitch(_: Any, p: dict[str, Any]) -> dict[str, Any]:
    reference: Image = p["reference_image"]
    moved: list[dict[str, Any]] = []
    for dets in p["predictions"] if isinstance(p["predictions"], Batch | list) else [p["predictions"]]:
        if not isinstance(dets, Detections):
            continue  # a slice that was empty or whose branch stopped
        dx, dy = dets.offset[0] - reference.offset[0], dets.offset[1] - reference.offset[1]
        for d in dets.items:
            x1, y1, x2, y2 = xyxy(d)
            x1, x2 = np.clip([x1 + dx, x2 + dx], 0, reference.width)
            y1, y2 = np.clip([y1 + dy, y2 + dy], 0, reference.height)
            moved.append(with_xyxy(d, float(x1), float(y1), float(x2), float(y2)))
    strategy = p["overlap_filtering_strategy"]
    if strategy == "nms":
        moved = _suppress(moved, float(p["iou_threshold"]))
    elif strategy == "nmm":
        moved = _merge(moved, float(p["iou_threshold"]))
    elif strategy != "none":
        raise ValueError(f"overlap_filtering_strategy must be none, nms or nmm, not {strategy!r}")
    return {"predictions": Detections(reference.width, reference.height, moved, reference.parent_id,
                                      reference.offset)}
