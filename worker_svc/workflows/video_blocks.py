"""Roboflow's stateful video blocks (trackers, line counter, time in zone, stabiliser; their run modules in
``worker_svc/workflows/runs/`` name these) on supervision's ByteTrack, LineZone and PolygonZone, as Roboflow's
engine runs them. Each keeps its tracker or zone in the state of its step for the
video being processed (``VideoFrame.of_step``)."""

from __future__ import annotations

import warnings
from collections import deque
from collections.abc import Callable
from typing import Any

import numpy as np
import supervision as sv

from worker_svc.workflows.sv_bridge import from_sv, subset, to_sv
from worker_svc.workflows.values import Detections, tracked, with_xyxy, xyxy
from worker_svc.workflows.video_state import VideoFrame

StatefulRun = Callable[[dict[str, Any], VideoFrame, dict[str, Any]], dict[str, Any]]

_ANCHORS = frozenset(sv.Position.list())


def _anchor(value: Any) -> sv.Position:
    if value not in _ANCHORS:
        raise ValueError(f"triggering_anchor must be one of {sorted(_ANCHORS)}, not {value!r}")
    return sv.Position(value)


def byte_tracker(p: dict[str, Any], frame: VideoFrame, state: dict[str, Any]) -> dict[str, Any]:
    if "tracker" not in state:
        with warnings.catch_warnings():  # supervision deprecates its ByteTrack for the trackers package
            warnings.simplefilter("ignore", FutureWarning)
            state["tracker"] = sv.ByteTrack(
                track_activation_threshold=float(p["track_activation_threshold"]),
                lost_track_buffer=int(p["lost_track_buffer"]),
                minimum_matching_threshold=float(p["minimum_matching_threshold"]),
                minimum_consecutive_frames=int(p["minimum_consecutive_frames"]),
                # lost_track_buffer counts frames at 30 fps: scaled by the rate frames really arrive at
                frame_rate=round(frame.metadata.processed_fps or frame.metadata.fps or 30))
            state["seen"] = _InstanceCache(int(p.get("instances_cache_size", 16384)))
    detections: Detections = p["detections"]
    tracked = from_sv(detections, state["tracker"].update_with_detections(to_sv(detections)))
    seen = [state["seen"].record(d["tracker_id"]) for d in tracked.items]
    return {"tracked_detections": tracked, "new_instances": subset(tracked, [not s for s in seen]),
            "already_seen_instances": subset(tracked, seen)}


class _InstanceCache:
    """The last ``size`` tracker ids seen (Roboflow's byte tracker v3 ``new_instances``)."""

    def __init__(self, size: int) -> None:
        self._order: deque[int] = deque(maxlen=max(1, size))
        self._ids: set[int] = set()

    def record(self, tracker_id: int) -> bool:
        if tracker_id in self._ids:
            return True
        if len(self._order) == self._order.maxlen:
            self._ids.discard(self._order[0])
        self._order.append(tracker_id)
        self._ids.add(tracker_id)
        return False


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





class _VelocityFilter:
    """Roboflow's velocity Kalman filter of the detections stabiliser: per track, a velocity smoothed over the
    last ``window`` measurements; a track unmeasured for ``window`` frames is dropped."""

    def __init__(self, window: int) -> None:
        self.window = window
        self.tracks: dict[int, dict[str, Any]] = {}

    def update(self, measured: dict[int, tuple[float, float]]) -> dict[int, np.ndarray]:
        noise = np.eye(2) * 0.01
        for track, velocity in measured.items():
            v = np.array(velocity, dtype=float).reshape(2, 1)
            if track not in self.tracks:
                self.tracks[track] = {"velocity": v, "covariance": np.eye(2), "history": deque([v], maxlen=self.window)}
                continue
            t = self.tracks[track]
            t["history"].appendleft(v)
            gain = t["covariance"] @ np.linalg.inv(t["covariance"] + noise)
            t["velocity"] = t["velocity"] + gain @ (np.mean(t["history"], axis=0) - t["velocity"])
            t["covariance"] = t["covariance"] - gain @ t["covariance"]
        predicted = {}
        for track, t in self.tracks.items():  # a constant-velocity prediction, with process noise
            t["covariance"] = t["covariance"] + np.eye(2) * 0.001
            predicted[track] = t["velocity"]
        for track in set(self.tracks) - set(measured):
            history = self.tracks[track]["history"]
            if history:
                history.popleft()
            if not history:
                del self.tracks[track]
        return predicted


def _smooth(previous: tuple[float, ...], current: tuple[float, ...], alpha: float) -> tuple[float, ...]:
    return tuple(alpha * c + (1 - alpha) * p for p, c in zip(previous, current, strict=True))


def stabilize_detections(p: dict[str, Any], frame: VideoFrame, state: dict[str, Any]) -> dict[str, Any]:
    """Roboflow's detections stabiliser: each tracked box smoothed towards its last position by
    ``bbox_smoothing_coefficient``, and a track missing from this frame kept where its smoothed velocity takes
    it, until the velocity filter drops it (``smoothing_window_size`` frames)."""
    detections = tracked(p["detections"])
    alpha, window = float(p["bbox_smoothing_coefficient"]), int(p["smoothing_window_size"])
    if not 0 <= alpha <= 1 or window < 1:
        raise ValueError("bbox_smoothing_coefficient must be 0..1 and smoothing_window_size at least 1")
    last: dict[int, dict[str, Any]] = state.setdefault("last", {})
    motion: _VelocityFilter = state.setdefault("filter", _VelocityFilter(window))
    # Roboflow measures the motion of each box's far corner (x2, y2): for a box of constant size, its centre's
    measured = {d["tracker_id"]: (xyxy(d)[2] - xyxy(last[d["tracker_id"]])[2],
                                  xyxy(d)[3] - xyxy(last[d["tracker_id"]])[3])
                for d in detections.items if d["tracker_id"] in last}
    velocities = motion.update(measured)
    out: dict[int, dict[str, Any]] = {}
    for d in detections.items:
        track = d["tracker_id"]
        out[track] = with_xyxy(d, *_smooth(xyxy(last[track]), xyxy(d), alpha)) if track in last else d
        last[track] = d
    for track, velocity in velocities.items():
        if track in out or track not in last:
            continue
        vx, vy = float(velocity[0, 0]), float(velocity[1, 0])
        before = xyxy(last[track])
        moved = (before[0] + vx, before[1] + vy, before[2] + vx, before[3] + vy)
        last[track] = out[track] = with_xyxy(last[track], *_smooth(before, moved, alpha))
    for track in list(last):
        if track not in motion.tracks and track not in out:
            del last[track]
    return {"tracked_detections": detections.with_items(list(out.values()))}
