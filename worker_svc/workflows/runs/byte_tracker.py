"""What Roboflow's ``roboflow_core/byte_tracker@v1`` does, frame by frame of a video
(its state kept per video), as the built-in executor runs it."""

from __future__ import annotations

import warnings
from collections import deque
from typing import Any

import supervision as sv

from worker_svc.workflows.sv_bridge import from_sv, subset, to_sv
from worker_svc.workflows.values import Detections
from worker_svc.workflows.video_state import VideoFrame


def stateful(p: dict[str, Any], frame: VideoFrame, state: dict[str, Any]) -> dict[str, Any]:
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
