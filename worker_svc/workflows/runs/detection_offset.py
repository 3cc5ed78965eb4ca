"""What Roboflow's ``roboflow_core/detection_offset@v1`` does, as the built-in executor runs it."""

from __future__ import annotations

from typing import Any

from worker_svc.workflows.values import Detections, new_detection_id, with_xyxy, xyxy


def run(_: Any, p: dict[str, Any]) -> dict[str, Any]:
    """Grow every box by offset_width x offset_height in all (pixels, or percent of the box), clipped to the
    image; each grown box is a new detection whose parent is the original one."""
    dets: Detections = p["predictions"]
    dx, dy = int(p["offset_width"]), int(p["offset_height"])
    percent = p["units"] == "Percent (%)"
    grown = []
    for d in dets.items:
        x1, y1, x2, y2 = xyxy(d)
        if percent:
            ox, oy = int((x2 - x1) * dx / 200), int((y2 - y1) * dy / 200)
        else:
            ox, oy = dx // 2, dy // 2
        x1, y1 = max(0.0, x1 - ox), max(0.0, y1 - oy)
        x2, y2 = min(float(dets.width), x2 + ox), min(float(dets.height), y2 + oy)
        grown.append({**with_xyxy(d, x1, y1, x2, y2), "detection_id": new_detection_id(),
                      "parent_id": d["detection_id"]})
    return {"predictions": dets.with_items(grown)}
