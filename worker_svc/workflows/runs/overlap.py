"""What Roboflow's ``roboflow_core/overlap@v1`` does, as the built-in executor runs it."""

from __future__ import annotations

from typing import Any

from worker_svc.workflows.values import Detections, xyxy


def _overlaps(reference: tuple[float, ...], other: tuple[float, ...], kind: str) -> bool:
    if kind == "Center Overlap":  # the other's centre strictly inside the reference box
        x, y = (other[0] + other[2]) / 2, (other[1] + other[3]) / 2
        return reference[0] < x < reference[2] and reference[1] < y < reference[3]
    # any intersection, touching edges included
    return not (other[2] < reference[0] or other[0] > reference[2] or other[3] < reference[1]
                or other[1] > reference[3])


def run(_: Any, p: dict[str, Any]) -> dict[str, Any]:
    """The detections that overlap one of ``overlap_class_name`` (its own detections dropped), in their order."""
    detections: Detections = p["predictions"]
    kind, name = p["overlap_type"], str(p["overlap_class_name"])
    if kind not in ("Center Overlap", "Any Overlap"):
        raise ValueError(f"overlap_type must be 'Center Overlap' or 'Any Overlap', not {kind!r}")
    references = [xyxy(d) for d in detections.items if d.get("class") == name]
    kept = [d for d in detections.items
            if d.get("class") != name and any(_overlaps(r, xyxy(d), kind) for r in references)]
    return {"overlaps": detections.with_items(kept)}
