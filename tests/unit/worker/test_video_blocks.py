"""Roboflow's stateful video blocks in the built-in executor, on known tracks: a square crossing a line (found
exactly by a small ONNX detector) keeps one tracker id, is counted once, is timed in its zone, and a second
video starts from fresh state. Definitions are written as Roboflow's editor writes them."""

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from shared.workflows.compiler import compile_workflow
from shared.workflows.errors import WorkflowInvalid, WorkflowRunFailed
from tests.fixtures.onnx_models import bright_box_detector, crossing_square
from worker_svc.inference.detector import OnnxDetector
from worker_svc.models import LoadedModels
from worker_svc.workflows.runner import WorkflowRunner
from worker_svc.workflows.values import serialize
from worker_svc.workflows.video_state import VideoState

LINE = [[80, 0], [80, 96]]  # a vertical line through the middle of the 160 x 96 frames
ZONE = [[0, 0], [80, 0], [80, 96], [0, 96]]  # the left half


class Models(LoadedModels):
    def __init__(self, path: Path) -> None:
        self.model = OnnxDetector(bright_box_detector(path), ["box"])

    def detector(self, model_id: str) -> OnnxDetector:
        return self.model

    def classifier(self, model_id: str) -> Any:
        raise KeyError(model_id)


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> Models:
    return Models(tmp_path_factory.mktemp("models") / "box.onnx")


def tracking_workflow() -> dict[str, Any]:
    steps = [
        {"type": "roboflow_core/roboflow_object_detection_model@v2", "name": "model", "images": "$inputs.image",
         "model_id": "boxes"},
        {"type": "roboflow_core/byte_tracker@v3", "name": "tracker", "image": "$inputs.image",
         "detections": "$steps.model.predictions"},
        {"type": "roboflow_core/line_counter@v2", "name": "counter", "image": "$inputs.image",
         "detections": "$steps.tracker.tracked_detections", "line_segment": LINE, "triggering_anchor": "CENTER"},
        {"type": "roboflow_core/time_in_zone@v3", "name": "zone", "image": "$inputs.image",
         "detections": "$steps.tracker.tracked_detections", "zone": ZONE},
        {"type": "roboflow_core/trace_visualization@v1", "name": "trace", "image": "$inputs.image",
         "predictions": "$steps.tracker.tracked_detections", "thickness": 2}]
    outputs = {"tracked": "$steps.tracker.tracked_detections", "new": "$steps.tracker.new_instances",
               "count_in": "$steps.counter.count_in", "count_out": "$steps.counter.count_out",
               "crossed_in": "$steps.counter.detections_in", "timed": "$steps.zone.timed_detections",
               "trace": "$steps.trace.image"}
    return {"version": "1.0", "inputs": [{"type": "WorkflowImage", "name": "image"}], "steps": steps,
            "outputs": [{"type": "JsonField", "name": n, "selector": s} for n, s in outputs.items()]}


def _run_video(runner: WorkflowRunner, name: str, frames: list[np.ndarray], fps: float = 10.0) -> list[dict]:
    video = VideoState(name, fps, fps)
    return [serialize(runner.run(f, name, frame=video.frame(i, i / fps)), on_image=lambda im: im.array)
            for i, f in enumerate(frames)]


def test_a_crossing_square_is_tracked_counted_and_timed(models: Models) -> None:
    runner = WorkflowRunner(compile_workflow(tracking_workflow()), models, {})
    rows = _run_video(runner, "right.mp4", crossing_square(rightwards=True))
    tracks = [[d["tracker_id"] for d in r["tracked"]["predictions"]] for r in rows]
    assert tracks == [[1]] * 20  # one object, one id, every frame
    assert [len(r["new"]["predictions"]) for r in rows] == [1] + [0] * 19
    # the centre (22 + 6 i) crosses x = 80 between frames 9 (76) and 10 (82): counted in once, from frame 10 on
    assert [r["count_in"] for r in rows] == [0] * 10 + [1] * 10
    assert all(r["count_out"] == 0 for r in rows)
    assert [len(r["crossed_in"]["predictions"]) for r in rows] == [0] * 10 + [1] + [0] * 9
    # in the left half until its centre passes x = 80; time counted from its first frame there, at 10 fps
    timed = [[round(d["time_in_zone"], 3) for d in r["timed"]["predictions"]] for r in rows]
    assert timed == [[round(i / 10, 3)] for i in range(10)] + [[]] * 10
    # the trace drew the path behind the square: the pixels where it was at frame 0 are coloured on frame 19
    last = rows[-1]["trace"]
    assert last[48, 22:120].any(axis=1).all() and (last[48, 22:120] != 255).any(axis=1).all()


def test_every_video_starts_from_fresh_state(models: Models) -> None:
    runner = WorkflowRunner(compile_workflow(tracking_workflow()), models, {})
    _run_video(runner, "right.mp4", crossing_square(rightwards=True))
    rows = _run_video(runner, "left.mp4", crossing_square(rightwards=False))
    assert [d["tracker_id"] for d in rows[0]["tracked"]["predictions"]] == [1]  # not the first video's track
    assert rows[-1]["count_in"] == 0 and rows[-1]["count_out"] == 1  # the first video's crossing is not counted
    # the zone: entered at frame 10 (centre 138 - 6 i < 80 from i = 10)
    assert [bool(r["timed"]["predictions"]) for r in rows] == [False] * 10 + [True] * 10


def test_still_images_are_videos_of_one_frame(models: Models) -> None:
    runner = WorkflowRunner(compile_workflow(tracking_workflow()), models, {})
    frames = crossing_square()
    for image in (frames[0], frames[10]):
        out = serialize(runner.run(image, "photo.jpg"), on_image=lambda im: None)
        assert [d["tracker_id"] for d in out["tracked"]["predictions"]] == [1]
        assert len(out["new"]["predictions"]) == 1 and out["count_in"] == out["count_out"] == 0


def test_v1_blocks_take_the_video_metadata_input(models: Models) -> None:
    inputs = [{"type": "WorkflowImage", "name": "image"}, {"type": "WorkflowVideoMetadata", "name": "video_metadata"}]
    definition: dict[str, Any] = {"version": "1.0", "inputs": inputs,
                  "steps": [{"type": "ObjectDetectionModel", "name": "model", "image": "$inputs.image",
                             "model_id": "boxes"},
                            {"type": "roboflow_core/byte_tracker@v1", "name": "tracker",
                             "metadata": "$inputs.video_metadata", "detections": "$steps.model.predictions"},
                            {"type": "roboflow_core/line_counter@v1", "name": "counter",
                             "metadata": "$inputs.video_metadata", "detections": "$steps.tracker.tracked_detections",
                             "line_segment": LINE},
                            {"type": "roboflow_core/time_in_zone@v1", "name": "zone", "image": "$inputs.image",
                             "metadata": "$inputs.video_metadata",
                             "detections": "$steps.tracker.tracked_detections", "zone": ZONE,
                             "remove_out_of_zone_detections": False}],
                  "outputs": [{"type": "JsonField", "name": "count_in", "selector": "$steps.counter.count_in"},
                              {"type": "JsonField", "name": "timed", "selector": "$steps.zone.timed_detections"}]}
    rows = _run_video(WorkflowRunner(compile_workflow(definition), models, {}), "v.mp4", crossing_square())
    assert rows[-1]["count_in"] == 1
    # kept outside the zone (remove_out_of_zone_detections false), with no time there
    assert [d["time_in_zone"] for d in rows[-1]["timed"]["predictions"]] == [0.0]

    definition["steps"][1]["metadata"] = "$inputs.image"
    with pytest.raises(WorkflowInvalid, match="must select a WorkflowVideoMetadata input"):
        compile_workflow(definition)


def test_stateful_blocks_do_not_run_per_crop_and_need_tracked_detections(models: Models) -> None:
    per_crop = tracking_workflow()
    per_crop["steps"] = [per_crop["steps"][0],
                         {"type": "roboflow_core/dynamic_crop@v1", "name": "crops", "image": "$inputs.image",
                          "predictions": "$steps.model.predictions"},
                         {"type": "roboflow_core/roboflow_object_detection_model@v2", "name": "inner",
                          "images": "$steps.crops.crops", "model_id": "boxes"},
                         {"type": "roboflow_core/byte_tracker@v2", "name": "tracker", "image": "$steps.crops.crops",
                          "detections": "$steps.inner.predictions"}]
    per_crop["outputs"] = [{"type": "JsonField", "name": "t", "selector": "$steps.tracker.tracked_detections"}]
    with pytest.raises(WorkflowInvalid, match="keeps state from frame to frame"):
        compile_workflow(per_crop)

    untracked = tracking_workflow()
    untracked["steps"][2]["detections"] = "$steps.model.predictions"
    runner = WorkflowRunner(compile_workflow(untracked), models, {})
    with pytest.raises(WorkflowRunFailed, match=r"counter.*needs tracked detections"):
        runner.run(crossing_square()[0], "photo.jpg")


def test_property_definition_extracts_the_frame_metadata(models: Models) -> None:
    operations = {"number": [{"type": "ExtractFrameMetadata", "property_name": "frame_number"}],
                  "seconds": [{"type": "ExtractFrameMetadata", "property_name": "seconds_since_start"}],
                  "iso": [{"type": "ExtractFrameMetadata", "property_name": "frame_timestamp"},
                          {"type": "TimestampToISOFormat"}]}
    definition = {"version": "1.0", "inputs": [{"type": "WorkflowImage", "name": "image"}],
                  "steps": [{"type": "roboflow_core/property_definition@v1", "name": name, "data": "$inputs.image",
                             "operations": ops} for name, ops in operations.items()],
                  "outputs": [{"type": "JsonField", "name": n, "selector": f"$steps.{n}.output"} for n in operations]}
    rows = _run_video(WorkflowRunner(compile_workflow(definition), models, {}), "v.mp4", crossing_square()[:12])
    assert [r["number"] for r in rows] == list(range(12))
    assert rows[11]["seconds"] == 1.1 and rows[11]["iso"] == "1970-01-01T00:00:01.100000+00:00"
    still = WorkflowRunner(compile_workflow(definition), models, {}).run(crossing_square()[0], "photo.jpg")
    assert (still["number"], still["seconds"]) == (0, 0.0)


def test_the_stabiliser_smooths_boxes_and_bridges_a_missing_frame(models: Models) -> None:
    definition = tracking_workflow()
    definition["steps"] = [*definition["steps"][:2], {
        "type": "roboflow_core/stabilize_detections@v1", "name": "steady", "image": "$inputs.image",
        "detections": "$steps.tracker.tracked_detections", "smoothing_window_size": 3,
        "bbox_smoothing_coefficient": 0.5}]
    definition["outputs"] = [{"type": "JsonField", "name": "steady", "selector": "$steps.steady.tracked_detections"},
                             {"type": "JsonField", "name": "raw", "selector": "$steps.tracker.tracked_detections"}]
    frames = crossing_square()
    frames[6] = np.zeros_like(frames[6])  # the square is not seen on frame 6
    rows = _run_video(WorkflowRunner(compile_workflow(definition), models, {}), "v.mp4", frames)
    steady = [[d["x"] for d in r["steady"]["predictions"]] for r in rows]
    raw = [[d["x"] for d in r["raw"]["predictions"]] for r in rows]
    assert steady[0] == raw[0]  # a new track as found
    # then halfway (the coefficient) between where it was and where it is: the smoothed box lags
    for i in (1, 2, 3):
        assert steady[i][0] == pytest.approx((raw[i - 1][0] + raw[i][0]) / 2)
    # frame 6: not detected, but the track is kept, carried on by its velocity (6 px a frame), smoothed
    assert raw[6] == [] and len(steady[6]) == 1 and steady[5][0] + 2 < steady[6][0] < raw[5][0] + 6
    assert all(len(x) == 1 for x in steady)
