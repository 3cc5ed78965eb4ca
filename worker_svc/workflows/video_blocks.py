"""Roboflow's stateful video blocks (trackers, line counter, time in zone, stabiliser; their run modules in
``worker_svc/workflows/runs/`` name these) on supervision's ByteTrack, LineZone and PolygonZone, as Roboflow's
engine runs them. Each keeps its tracker or zone in the state of its step for the
video being processed (``VideoFrame.of_step``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import supervision as sv

from worker_svc.workflows.sv_bridge import subset, to_sv
from worker_svc.workflows.values import tracked
from worker_svc.workflows.video_state import VideoFrame

StatefulRun = Callable[[dict[str, Any], VideoFrame, dict[str, Any]], dict[str, Any]]

_ANCHORS = frozenset(sv.Position.list())


def _anchor(value: Any) -> sv.Position:
    if value not in _ANCHORS:
        raise ValueError(f"triggering_anchor must be one of {sorted(_ANCHORS)}, not {value!r}")
    return sv.Position(value)


def _point(value: Any, what: str) -> tuple[float, float]:
    if not isinstance(value, list | tuple) or len(value) != 2 or not all(
            isinstance(v, int | float) and not isinstance(v, bool) for v in value):
        raise ValueError(f"each point of {what} must be a list of 2 numbers, not {value!r}")
    return float(value[0]), float(value[1])


def line_counter(p: dict[str, Any], frame: VideoFrame, state: dict[str, Any]) -> dict[str, Any]:
    detections = tracked(p["detections"])
    if "zone" not in state:
        segment = p["line_segment"]
        if not isinstance(segment, list | tuple) or len(segment) != 2:
            raise ValueError("line_segment must be a list of exactly 2 points")
        start, end = (sv.Point(*_point(v, "line_segment")) for v in segment)
        anchor = p["triggering_anchor"]
        state["zone"] = sv.LineZone(start=start, end=end) if anchor is None else sv.LineZone(
            start=start, end=end, triggering_anchors=[_anchor(anchor)])
    zone: sv.LineZone = state["zone"]
    crossed_in: Any = []
    crossed_out: Any = []
    if detections.items:
        crossed_in, crossed_out = zone.trigger(detections=to_sv(detections))
    return {"count_in": zone.in_count, "count_out": zone.out_count,
            "detections_in": subset(detections, list(crossed_in)),
            "detections_out": subset(detections, list(crossed_out))}


def _polygons(zone: Any, *, several: bool) -> list[np.ndarray]:
    """One polygon (a list of points), or for v3 also a list of polygons."""
    nested = isinstance(zone, list | tuple) and zone and isinstance(zone[0], list | tuple) and zone[0] and \
        isinstance(zone[0][0], list | tuple)
    polygons = list(zone) if several and nested else [zone]
    for polygon in polygons:
        if not isinstance(polygon, list | tuple) or len(polygon) < 3:
            raise ValueError("zone must be a list of at least 3 points")
    return [np.array([_point(v, "zone") for v in polygon]).round().astype(int) for polygon in polygons]


def time_in_zone(several: bool) -> StatefulRun:
    def run(p: dict[str, Any], frame: VideoFrame, state: dict[str, Any]) -> dict[str, Any]:
        detections = tracked(p["detections"])
        key = repr(p["zone"])  # v3 may be given another zone per frame (a selector); each keeps its own
        zones = state.setdefault("zones", {})
        if key not in zones:
            anchor = (_anchor(p["triggering_anchor"]),)
            zones[key] = [sv.PolygonZone(polygon=polygon, triggering_anchors=anchor)
                          for polygon in _polygons(p["zone"], several=several)]
        entered: dict[int, float] = state.setdefault("entered", {})
        now = frame.metadata.seconds
        found = to_sv(detections)
        inside = np.any([z.trigger(found) for z in zones[key]], axis=0) if detections.items else np.zeros(0, bool)
        kept = []
        for d, is_inside in zip(detections.items, inside, strict=True):
            tracker_id = d["tracker_id"]
            if not is_inside:
                if p["reset_out_of_zone_detections"]:
                    entered.pop(tracker_id, None)
                if p["remove_out_of_zone_detections"]:
                    continue
                entered.pop(tracker_id, None)
                kept.append({**d, "time_in_zone": 0.0})
            else:
                kept.append({**d, "time_in_zone": now - entered.setdefault(tracker_id, now)})
        return {"timed_detections": detections.with_items(kept)}
    return run
