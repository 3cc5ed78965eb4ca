"""What Roboflow's ``roboflow_core/rate_limiter@v1`` does, frame by frame of a video
(its state kept per video), as the built-in executor runs it."""

from __future__ import annotations

from typing import Any

from worker_svc.workflows.values import CONTINUE
from worker_svc.workflows.video_state import VideoFrame


def stateful(p: dict[str, Any], frame: VideoFrame, state: dict[str, Any]) -> dict[str, Any]:
    """Video time is the frame's (its number over the video's rate): a batch job is not paced by a clock. So
    ``video_reference_image``, which switches Roboflow's engine from the wall clock to a video's time, changes
    nothing here: every frame's time is known."""
    cooldown = float(p["cooldown_seconds"])
    if cooldown < 0:
        raise ValueError("cooldown_seconds must not be negative")
    now = frame.metadata.seconds
    last = state.get("last")
    if last is not None and now - last < cooldown:
        return {CONTINUE: False}
    state["last"] = now
    return {CONTINUE: bool(p["next_steps"])}
