"""What Roboflow's ``roboflow_core/track_class_lock@v1`` does, frame by frame of a video
(its state kept per video), as the built-in executor runs it."""

from __future__ import annotations

from typing import Any

from worker_svc.workflows.values import Detections, box_iou, tracked, xyxy
from worker_svc.workflows.video_state import VideoFrame

_BOUNDS = {"min_votes": 1, "switch_after": 1, "state_ttl": 1, "lead_margin": 0, "reattach_window": 0}


def _checked(p: dict[str, Any]) -> dict[str, Any]:
    for key, least in _BOUNDS.items():
        if int(p[key]) < least:
            raise ValueError(f"{key} must be at least {least}, not {p[key]}")
    for key in ("vote_confidence", "reattach_iou"):
        if not 0 <= float(p[key]) <= 1:
            raise ValueError(f"{key} must be between 0 and 1, not {p[key]}")
    if int(p["reattach_window"]) > int(p["state_ttl"]):
        raise ValueError("reattach_window must not exceed state_ttl: lost tracks are forgotten after state_ttl frames")
    return p


def _inherited(tracks: dict[int, dict[str, Any]], box: tuple[float, ...], frame: int, p: dict[str, Any],
               active: set[int]) -> int | None:
    """A lost, locked track that this new track continues: gone for at most ``reattach_window`` frames, last
    seen where this one is (the best IoU of at least ``reattach_iou``)."""
    best, best_iou = None, 0.0
    for track, t in tracks.items():
        if track in active or t["locked"] is None or not 1 <= frame - t["seen"] <= int(p["reattach_window"]):
            continue
        iou = box_iou(box, t["box"])
        if iou >= float(p["reattach_iou"]) and iou > best_iou:
            best, best_iou = track, iou
    return best


def _vote(t: dict[str, Any], name: str, class_id: Any, confidence: float, p: dict[str, Any]) -> None:
    """One frame's class for the track: a vote until a class leads by ``lead_margin`` with ``min_votes``; once
    locked, another class takes over only after ``switch_after`` frames in a row."""
    if confidence < float(p["vote_confidence"]):
        if t["locked"] is not None:
            t["challenger"], t["streak"], t["streak_confidence"] = None, 0, 0.0
        return
    t["class_ids"].setdefault(name, class_id)
    if t["locked"] is None:
        t["votes"][name] = t["votes"].get(name, 0) + 1
        t["confidence"][name] = t["confidence"].get(name, 0.0) + confidence
        ranked = sorted(t["votes"].values(), reverse=True)
        if ranked[0] >= int(p["min_votes"]) and ranked[0] - (ranked[1] if len(ranked) > 1 else 0) >= int(
                p["lead_margin"]):
            t["locked"] = max(t["votes"], key=lambda c: t["votes"][c])
    elif name == t["locked"]:
        t["challenger"], t["streak"], t["streak_confidence"] = None, 0, 0.0
    else:
        if name == t["challenger"]:
            t["streak"] += 1
            t["streak_confidence"] += confidence
        else:
            t["challenger"], t["streak"], t["streak_confidence"] = name, 1, confidence
            t["class_ids"][name] = class_id
        if t["streak"] >= int(p["switch_after"]):
            t["locked"] = name
            t["votes"], t["confidence"] = {name: t["streak"]}, {name: t["streak_confidence"]}
            t["challenger"], t["streak"], t["streak_confidence"] = None, 0, 0.0


def stateful(p: dict[str, Any], _: VideoFrame, state: dict[str, Any]) -> dict[str, Any]:
    """Each tracked detection with its track's locked class (and the mean confidence of the votes for it)."""
    detections: Detections = tracked(p["detections"])
    _checked(p)
    state["frame"] = frame = state.get("frame", 0) + 1
    tracks: dict[int, dict[str, Any]] = state.setdefault("tracks", {})
    active = {int(d["tracker_id"]) for d in detections.items}
    out = []
    for d in detections.items:
        track, box = int(d["tracker_id"]), xyxy(d)
        if track not in tracks:
            before = _inherited(tracks, box, frame, p, active)
            if before is not None:
                tracks[track] = tracks.pop(before)
        t = tracks.setdefault(track, {"votes": {}, "confidence": {}, "class_ids": {}, "locked": None,
                                      "challenger": None, "streak": 0, "streak_confidence": 0.0})
        t["seen"], t["box"] = frame, box
        _vote(t, str(d.get("class", d.get("class_id"))), d.get("class_id"), float(d.get("confidence", 1.0)), p)
        locked = t["locked"]
        if locked is not None:
            d = {**d, "class": locked, "class_id": t["class_ids"].get(locked, d.get("class_id")),
                 "confidence": min(1.0, t["confidence"][locked] / max(t["votes"][locked], 1))}
        out.append(d)
    for track in [k for k, t in tracks.items() if frame - t["seen"] > int(p["state_ttl"])]:
        del tracks[track]
    return {"tracked_detections": detections.with_items(out)}
