"""What the block does: lets its next steps run where its condition holds (UQL); with ``stop_delay``, frame by
frame of a video."""

from __future__ import annotations

from typing import Any

from worker_svc.workflows import uql
from worker_svc.workflows.blocks import ModelProvider
from worker_svc.workflows.values import CONTINUE
from worker_svc.workflows.video_state import VideoFrame


def run(_: ModelProvider, p: dict[str, Any]) -> dict[str, Any]:
    return {CONTINUE: bool(p["next_steps"]) and uql.evaluate(p["condition_statement"], p["evaluation_parameters"])}


def stateful(p: dict[str, Any], frame: VideoFrame, state: dict[str, Any]) -> dict[str, Any]:
    """With ``stop_delay``: the branch stays open for that many seconds of video time after the condition last
    held (Roboflow's engine counts wall-clock seconds of a live stream; a batch job is not paced by a clock)."""
    delay = float(p["stop_delay"])
    if delay < 0:
        raise ValueError("stop_delay must not be negative")
    if not p["next_steps"]:
        return {CONTINUE: False}
    now = frame.metadata.seconds
    if uql.evaluate(p["condition_statement"], p["evaluation_parameters"]):
        state["held_at"] = now
        return {CONTINUE: True}
    held = state.get("held_at")
    return {CONTINUE: held is not None and now - held <= delay}
