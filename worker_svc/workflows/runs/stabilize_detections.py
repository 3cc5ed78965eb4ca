"""What Roboflow's ``roboflow_core/stabilize_detections@v1`` does, frame by frame of a video
(its state kept per video), as the built-in executor runs it."""

from __future__ import annotations

from collections import deque
from typing import Any

import numpy as np

from worker_svc.workflows.values import tracked, with_xyxy, xyxy
from worker_svc.workflows.video_state import VideoFrame


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


def stateful(p: dict[str, Any], frame: VideoFrame, state: dict[str, Any]) -> dict[str, Any]:
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
