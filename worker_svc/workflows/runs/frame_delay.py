"""What Roboflow's ``roboflow_core/frame_delay@v1`` does frame by frame of a video, as the built-in executor runs it."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from worker_svc.workflows.video_state import VideoFrame

MAX_OFFSET = 256


def stateful(p: dict[str, Any], frame: VideoFrame, state: dict[str, Any]) -> dict[str, Any]:
    """``data`` of the frame ``offset`` frames before this one (``default_value`` until there is one)."""
    offset = int(p["offset"])
    if not -MAX_OFFSET <= offset <= 0:
        raise ValueError(f"offset must be between -{MAX_OFFSET} and 0 (frames before this one), not {offset}")
    number = frame.metadata.frame_number
    past: OrderedDict[int, Any] = state.setdefault("frames", OrderedDict())
    reach = state["reach"] = max(state.get("reach", 0), -offset)
    past[number] = p["data"]
    target = number + offset
    available = target in past
    while past and next(iter(past)) < number - reach:
        past.popitem(last=False)
    return {"output": past[target] if available else p["default_value"], "is_available": available,
            "reference_frame_number": number}
