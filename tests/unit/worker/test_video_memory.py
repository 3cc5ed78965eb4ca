"""Roboflow's video blocks that remember earlier frames, on known frames: frame delay hands back a value from
frames before, the rate limiter lets its steps run once per cooldown of video time, track class lock settles a
track's class by votes (switching only after a run of another class, kept by a track that takes over)."""

from typing import Any

import numpy as np
import pytest

from shared.workflows.compiler import compile_workflow
from shared.workflows.errors import WorkflowInvalid
from worker_svc.models import LoadedModels
from worker_svc.workflows.runner import WorkflowRunner
from worker_svc.workflows.runs import frame_delay, track_class_lock
from worker_svc.workflows.values import Detections, serialize
from worker_svc.workflows.video_state import VideoState


def test_frame_delay_hands_back_the_value_of_two_frames_before() -> None:
    video, state = VideoState("clip.mp4", 10.0), dict[str, Any]()
    out = [frame_delay.stateful({"data": f"d{i}", "offset": -2, "default_value": "none", "image": None},
                                    video.frame(i, i / 10), state) for i in range(5)]
    assert [o["output"] for o in out] == ["none", "none", "d0", "d1", "d2"]
    assert [o["is_available"] for o in out] == [False, False, True, True, True]
    assert [o["reference_frame_number"] for o in out] == [0, 1, 2, 3, 4]
    assert sorted(state["frames"]) == [2, 3, 4]  # nothing older than the offset is kept
    with pytest.raises(ValueError, match="frames before this one"):
        frame_delay.stateful({"data": 1, "offset": 1, "default_value": None}, video.frame(5, 0.5), state)
    # at most 256 frames back: the limit itself is taken, one past it refused
    assert frame_delay.stateful({"data": 1, "offset": -256, "default_value": None}, video.frame(6, 0.6),
                                    state)["is_available"] is False
    with pytest.raises(ValueError, match="between -256 and 0"):
        frame_delay.stateful({"data": 1, "offset": -257, "default_value": None}, video.frame(7, 0.7), state)


def test_the_rate_limiter_lets_its_steps_run_once_per_cooldown_of_video_time() -> None:
    definition = {"version": "1.0", "inputs": [{"type": "WorkflowImage", "name": "image"}], "steps": [
        {"type": "roboflow_core/rate_limiter@v1", "name": "limit", "cooldown_seconds": 0.35,
         "depends_on": "$inputs.image", "next_steps": ["$steps.grey"]},
        {"type": "roboflow_core/convert_grayscale@v1", "name": "grey", "image": "$inputs.image"}],
        "outputs": [{"type": "JsonField", "name": "grey", "selector": "$steps.grey.image"}]}
    runner = WorkflowRunner(compile_workflow(definition), LoadedModels({}), {})
    frame = np.zeros((8, 8, 3), np.uint8)
    for name in ("a.mp4", "b.mp4"):  # each video on its own clock
        video = VideoState(name, 10.0, 10.0)
        ran = [runner.run(frame, name, frame=video.frame(i, i / 10))["grey"] is not None for i in range(10)]
        assert [i for i, r in enumerate(ran) if r] == [0, 4, 8]


def seen(name: str, confidence: float = 0.9, track: int = 1, x: float = 20.0) -> dict[str, Any]:
    return {"x": x, "y": 20.0, "width": 10.0, "height": 10.0, "confidence": confidence, "class": name,
            "class_id": {"cat": 0, "dog": 1, "bird": 2}[name], "tracker_id": track, "detection_id": f"{name}{track}"}


LOCK = {"min_votes": 3, "vote_confidence": 0.8, "lead_margin": 1, "switch_after": 2, "state_ttl": 300,
        "reattach_window": 30, "reattach_iou": 0.3}


def test_a_track_class_is_locked_by_votes_and_switches_only_after_a_run() -> None:
    video, state = VideoState("clip.mp4", 10.0), dict[str, Any]()
    frames = [[seen("cat", 0.9)], [seen("dog")], [seen("cat", 0.7)], [seen("cat", 0.8)], [seen("cat", 1.0)],
              [seen("dog")], [seen("dog")], [seen("bird", 0.5)], [], [], [seen("dog", track=2, x=21.0)]]
    out = []
    for i, items in enumerate(frames):
        result = track_class_lock.stateful({**LOCK, "image": None, "detections": Detections(100, 100, items)},
                                               video.frame(i, i / 10), state)
        out.append([(d["class"], d["class_id"], round(d["confidence"], 3)) for d in result["tracked_detections"].items])
    # votes: cat (0.9), dog, cat at 0.7 does not count, cat (0.8): 2 to 1; the 5th frame's cat locks it, 3 to 1
    assert out[:5] == [[("cat", 0, 0.9)], [("dog", 1, 0.9)], [("cat", 0, 0.7)], [("cat", 0, 0.8)], [("cat", 0, 0.9)]]
    # one dog is a challenger, the second in a row takes over; a low-confidence bird changes nothing
    assert out[5:8] == [[("cat", 0, 0.9)], [("dog", 1, 0.9)], [("dog", 1, 0.9)]]
    # track 2 appears where track 1 was lost two frames before: it takes over track 1's lock
    assert out[10] == [("dog", 1, 0.9)] and set(state["tracks"]) == {2}


def test_tracked_detections_can_come_from_each_images_metadata() -> None:
    definition = {"version": "1.0", "inputs": [{"type": "WorkflowImage", "name": "image"},
                                               {"type": "WorkflowBatchInput", "name": "predictions"}], "steps": [
        {"type": "roboflow_core/track_class_lock@v1", "name": "lock", "image": "$inputs.image",
         "detections": "$inputs.predictions", "min_votes": 1, "lead_margin": 0}],
        "outputs": [{"type": "JsonField", "name": "locked", "selector": "$steps.lock.tracked_detections"}]}
    runner = WorkflowRunner(compile_workflow(definition), LoadedModels({}), {})
    video = VideoState("clip.mp4", 10.0)
    classes = []
    for i, name in enumerate(("cat", "dog")):
        given = {"image": {"width": 100, "height": 100}, "predictions": [seen(name)]}
        out = serialize(runner.run(np.zeros((100, 100, 3), np.uint8), "clip.mp4", {"predictions": given},
                                   frame=video.frame(i, i / 10)))
        classes.append(out["locked"]["predictions"][0]["class"])
    assert classes == ["cat", "cat"]
    bad = {"image": {"width": 100}, "predictions": "cat"}
    with pytest.raises(Exception, match="serialised detections"):
        runner.run(np.zeros((100, 100, 3), np.uint8), "x.jpg", {"predictions": bad})


class LitFrames(LoadedModels):
    """One detection on a lit frame, none on a dark one."""

    def detector(self, model_id: str) -> "LitFrames":
        return self

    def detect(self, images: list[np.ndarray], **kwargs: Any) -> list[list[dict[str, Any]]]:
        return [[{"x": 4.0, "y": 4.0, "width": 4.0, "height": 4.0, "confidence": 0.9, "class": "light",
                  "class_id": 0, "detection_id": "l"}] if image.mean() > 0 else [] for image in images]


def gated(stop_delay: Any, crops: bool = False) -> dict[str, Any]:
    model = {"type": "roboflow_core/roboflow_object_detection_model@v2", "name": "model", "images": "$inputs.image",
             "model_id": "lights"}
    seen, image = "$steps.model.predictions", "$inputs.image"
    steps: list[dict[str, Any]] = [model]
    if crops:
        steps += [{"type": "roboflow_core/dynamic_crop@v1", "name": "crop", "images": "$inputs.image",
                   "predictions": seen},
                  {**model, "name": "again", "images": "$steps.crop.crops"}]
        # the gated step runs on the crops the gate decides on (on the image it would never run, as in Roboflow)
        seen, image = "$steps.again.predictions", "$steps.crop.crops"
    condition = {"type": "StatementGroup", "statements": [{
        "type": "BinaryStatement", "left_operand": {"type": "DynamicOperand", "operand_name": "dets",
                                                    "operations": [{"type": "SequenceLength"}]},
        "comparator": {"type": "(Number) >="}, "right_operand": {"type": "StaticOperand", "value": 1}}]}
    steps += [{"type": "roboflow_core/continue_if@v1", "name": "gate", "condition_statement": condition,
               "evaluation_parameters": {"dets": seen}, "next_steps": ["$steps.grey"], "stop_delay": stop_delay},
              {"type": "roboflow_core/convert_grayscale@v1", "name": "grey", "image": image}]
    return {"version": "1.0", "inputs": [{"type": "WorkflowImage", "name": "image"},
                                         {"type": "WorkflowParameter", "name": "delay", "default_value": 0}],
            "steps": steps, "outputs": [{"type": "JsonField", "name": "grey", "selector": "$steps.grey.image"}]}


def test_stop_delay_keeps_a_branch_open_for_seconds_of_video_after_the_condition() -> None:
    frames = [np.full((8, 8, 3), 255 if i < 3 else 0, np.uint8) for i in range(10)]
    for delay, open_at in ((0.3, [0, 1, 2, 3, 4, 5]), (0, [0, 1, 2]), ("$inputs.delay", [0, 1, 2])):
        runner = WorkflowRunner(compile_workflow(gated(delay)), LitFrames({}), {})
        for name in ("a.mp4", "b.mp4"):  # the second video starts closed: the first's last pass is not its own
            video = VideoState(name, 10.0, 10.0)
            ran = [runner.run(f, name, frame=video.frame(i, i / 10))["grey"] is not None
                   for i, f in enumerate(frames if name == "a.mp4" else frames[3:])]
            expected = open_at if name == "a.mp4" else []
            assert [i for i, r in enumerate(ran) if r] == expected, (delay, name)


def test_stop_delay_is_refused_per_crop() -> None:
    with pytest.raises(WorkflowInvalid, match="keeps state from frame to frame"):
        compile_workflow(gated(1.0, crops=True))
    assert compile_workflow(gated(0, crops=True))
