"""Roboflow's fusion and analysis blocks in the built-in executor, on known inputs: crops' detections rolled up
into their parent image (boxes, masks, keypoints), overlaps between two sets, nearest neighbours, the
minimum-area rectangle, template matching, the reference path, and motion found by a background model per
video."""

from typing import Any

import cv2
import numpy as np
import pytest

from shared.workflows.compiler import compile_workflow
from shared.workflows.errors import WorkflowInvalid
from worker_svc.models import LoadedModels
from worker_svc.workflows.runner import WorkflowRunner
from worker_svc.workflows.runs import (
    bounding_rect,
    detections_list_rollup,
    detections_nearest_neighbor,
    dynamic_zone,
    overlap_analysis,
    template_matching,
)
from worker_svc.workflows.values import Detections, Image, serialize, xyxy
from worker_svc.workflows.video_state import VideoState
from worker_svc.workflows.visualizations import reference_path_visualization


def box(name: str, x1: float, y1: float, x2: float, y2: float, confidence: float = 0.5,
        class_id: int = 0, **extra: Any) -> dict[str, Any]:
    return {"x": (x1 + x2) / 2, "y": (y1 + y2) / 2, "width": x2 - x1, "height": y2 - y1,
            "confidence": confidence, "class": name, "class_id": class_id, "detection_id": f"{name}-{x1}-{y1}",
            **extra}


# two cars whose crops overlap, and a part seen on each crop: the halves of one part, and a badge on the first
CARS = [box("car", 10, 10, 90, 90, 0.8), box("car", 80, 10, 160, 90, 0.7)]
PARTS = {10: [box("part", 60, 20, 80, 60, 0.6), box("badge", 0, 0, 10, 10, 0.5, class_id=1)],
         80: [box("part", 0, 20, 20, 60, 0.9)]}


class CarsAndParts(LoadedModels):
    """``cars`` finds CARS on the whole image; ``parts`` finds the parts of the crop whose left column it is
    (the test image's first channel holds each column's x)."""

    def __init__(self) -> None:
        super().__init__({})
        self.model = ""

    def detector(self, model_id: str) -> "CarsAndParts":
        self.model = model_id
        return self

    def detect(self, images: list[np.ndarray], **kwargs: Any) -> list[list[dict[str, Any]]]:
        if self.model == "cars":
            return [[dict(d) for d in CARS] for _ in images]
        return [[dict(d) for d in PARTS[int(image[0, 0, 0])]] for image in images]


def rolled_up(**options: Any) -> dict[str, Any]:
    image = np.zeros((100, 200, 3), np.uint8)
    image[:, :, 0] = np.arange(200)[None, :]
    steps = [
        {"type": "roboflow_core/roboflow_object_detection_model@v2", "name": "cars", "image": "$inputs.image",
         "model_id": "cars"},
        {"type": "roboflow_core/dynamic_crop@v1", "name": "crop", "images": "$inputs.image",
         "predictions": "$steps.cars.predictions"},
        {"type": "roboflow_core/roboflow_object_detection_model@v2", "name": "parts",
         "images": "$steps.crop.crops", "model_id": "parts"},
        {"type": "roboflow_core/dimension_collapse@v1", "name": "collapse", "data": "$steps.parts.predictions"},
        {"type": "roboflow_core/detections_list_rollup@v1", "name": "rollup",
         "parent_detection": "$steps.cars.predictions", "child_detections": "$steps.collapse.output", **options}]
    definition = {"version": "1.0", "inputs": [{"type": "WorkflowImage", "name": "image"}], "steps": steps,
                  "outputs": [{"type": "JsonField", "name": "parts", "selector": "$steps.rollup.rolled_up_detections"},
                              {"type": "JsonField", "name": "zones", "selector": "$steps.rollup.crop_zones"}]}
    return serialize(WorkflowRunner(compile_workflow(definition), CarsAndParts(), {}).run(image))


def corners(d: dict[str, Any]) -> tuple[float, ...]:
    return tuple(round(v, 3) for v in xyxy(d))


@pytest.mark.parametrize(("strategy", "confidence"), [("max", 0.9), ("mean", 0.75), ("min", 0.6)])
def test_the_halves_of_a_part_seen_on_two_crops_roll_up_into_one_box(strategy: str, confidence: float) -> None:
    out = rolled_up(confidence_strategy=strategy)
    found = out["parts"]["predictions"]
    assert [(d["class"], corners(d)) for d in found] == [("part", (70, 30, 100, 70)), ("badge", (10, 10, 20, 20))]
    assert found[0]["confidence"] == pytest.approx(confidence) and found[1]["confidence"] == 0.5
    assert out["parts"]["image"] == {"width": 200, "height": 100}
    assert len({d["detection_id"] for d in found}) == 2
    assert out["zones"] == [[[10, 10], [90, 10], [90, 90], [10, 90]], [[80, 10], [160, 10], [160, 90], [80, 90]]]


def test_an_overlap_threshold_keeps_boxes_that_overlap_less_apart() -> None:
    # the halves overlap by IoU 400 / 1200 = 0.33: merged at 0.3, kept apart at 0.34
    assert len(rolled_up(overlap_threshold=0.3)["parts"]["predictions"]) == 2
    assert len(rolled_up(overlap_threshold=0.34)["parts"]["predictions"]) == 3


def test_a_rollup_refuses_an_unknown_confidence_strategy_when_saved() -> None:
    with pytest.raises(WorkflowInvalid, match="confidence_strategy"):
        rolled_up(confidence_strategy="median")


def square(x1: int, y1: int, x2: int, y2: int) -> list[dict[str, float]]:
    return [{"x": float(x), "y": float(y)} for x, y in ((x1, y1), (x2, y1), (x2, y2), (x1, y2))]


def test_masks_of_crops_roll_up_into_their_union() -> None:
    parent = Detections(200, 100, [box("car", 10, 10, 90, 90), box("car", 80, 10, 160, 90)])
    children = [Detections(80, 80, [box("part", 60, 20, 80, 60, 0.6, points=square(60, 20, 80, 60))],
                           offset=(10, 10)),
                Detections(80, 80, [box("part", 0, 20, 20, 60, 0.9, points=square(0, 20, 20, 60))],
                           offset=(80, 10))]
    out = detections_list_rollup.run(None, {"parent_detection": parent, "child_detections": children,
                                               "confidence_strategy": "min", "overlap_threshold": 0.0,
                                               "keypoint_merge_threshold": 10.0})
    (merged,) = out["rolled_up_detections"].items
    # the polygons filled with their edges (x 70..90 and 80..100), so the union spans pixels 70..100
    assert corners(merged) == (70, 30, 101, 71) and merged["confidence"] == 0.6
    xs, ys = [q["x"] for q in merged["points"]], [q["y"] for q in merged["points"]]
    assert (min(xs), max(xs), min(ys), max(ys)) == (70, 100, 30, 70)


def pose(dx: float, confidence: float) -> dict[str, Any]:
    keypoints = [{"x": 10.0 + dx, "y": 10.0, "confidence": 0.8, "class_id": 0, "class": "nose"},
                 {"x": 20.0 + dx, "y": 30.0, "confidence": 0.6, "class_id": 1, "class": "hip"}]
    return box("person", 5 + dx, 5, 25 + dx, 35, confidence, keypoints=keypoints)


def test_keypoint_detections_close_together_are_averaged_and_far_ones_kept() -> None:
    parent = Detections(300, 100, [box("crowd", 0, 0, 100, 100), box("crowd", 100, 0, 200, 100)])
    # on the second crop (at x 100) a pose 4 px right of the first crop's, and one 60 px away
    children = [Detections(100, 100, [pose(96, 0.5)]),
                Detections(100, 100, [pose(0, 0.7), pose(60, 0.9)], offset=(100, 0))]
    out = detections_list_rollup.run(None, {"parent_detection": parent, "child_detections": children,
                                               "confidence_strategy": "mean", "overlap_threshold": 0.0,
                                               "keypoint_merge_threshold": 10.0})
    averaged, far = out["rolled_up_detections"].items
    assert [(k["x"], k["y"]) for k in averaged["keypoints"]] == [(108.0, 10.0), (118.0, 30.0)]
    assert corners(averaged) == (103, 5, 123, 35) and averaged["confidence"] == pytest.approx(0.6)
    assert [(k["x"], k["y"]) for k in far["keypoints"]] == [(170.0, 10.0), (180.0, 30.0)]


def test_a_rollup_needs_one_list_of_children_per_parent_detection() -> None:
    with pytest.raises(ValueError, match="2 detections but 1 lists"):
        detections_list_rollup.run(None, {"parent_detection": Detections(10, 10, CARS),
                                             "child_detections": [Detections(5, 5)], "confidence_strategy": "max",
                                             "overlap_threshold": 0.0, "keypoint_merge_threshold": 10.0})


def test_overlap_analysis_measures_the_share_of_each_reference_a_candidate_covers() -> None:
    references = Detections(100, 100, [box("table", 0, 0, 10, 10, 0.9)])
    candidates = Detections(100, 100, [box("cup", 5, 0, 15, 10, 0.8), box("cup", 50, 50, 60, 60),
                                       box("plate", 0, 0, 10, 10, 0.7, points=square(0, 0, 2, 10))])
    p = {"reference_predictions": references, "candidate_predictions": candidates, "min_overlap": 0.1}
    found = overlap_analysis.run(None, p)["overlaps"]
    assert [(o["candidate_class"], o["overlap_ratio"]) for o in found] == [("cup", 0.5), ("plate", pytest.approx(0.2))]
    assert found[0] == {"reference_class": "table", "reference_confidence": 0.9, "candidate_class": "cup",
                        "candidate_confidence": 0.8, "overlap_ratio": 0.5, "reference_detection_id": "table-0-0",
                        "candidate_detection_id": "cup-5-0"}
    assert overlap_analysis.run(None, {**p, "min_overlap": 0.6})["overlaps"] == []


def test_nearest_neighbours_within_a_distance_with_ties() -> None:
    queries = Detections(200, 100, [box("a", 0, 0, 2, 2), box("b", 20, 0, 22, 2)])
    targets = Detections(200, 100, [box("t", 4, 0, 6, 2), box("u", 26, 0, 28, 2), box("v", 14, 0, 16, 2)])
    p = {"query_predictions": queries, "target_predictions": targets, "query_point": "CENTER",
         "target_point": "CENTER", "query_keypoint_name": None, "target_keypoint_name": None, "max_distance": 5}
    out = detections_nearest_neighbor.run(None, p)
    assert [d["nearest_target_distance"] for d in out["query_predictions"].items] == [4.0, None]
    assert [d["class"] for d in out["matched_target_detections"].items] == ["t"]
    out = detections_nearest_neighbor.run(None, {**p, "max_distance": None})
    # b is 6 px from u and from v: both matched
    assert [d["nearest_target_distance"] for d in out["query_predictions"].items] == [4.0, 6.0]
    assert [(q["class"], t["class"]) for q, t in zip(out["matched_query_detections"].items,
                                                     out["matched_target_detections"].items, strict=True)] == [
        ("a", "t"), ("b", "u"), ("b", "v")]
    # the matched queries carry their distance, as Roboflow's block gives them
    assert [d["nearest_target_distance"] for d in out["matched_query_detections"].items] == [4.0, 6.0, 6.0]


def test_the_bounding_rectangle_of_a_diamond_is_the_diamond() -> None:
    diamond = [{"x": 50.0, "y": 10.0}, {"x": 90.0, "y": 50.0}, {"x": 50.0, "y": 90.0}, {"x": 10.0, "y": 50.0}]
    found = Detections(100, 100, [box("gem", 10, 10, 90, 90, points=diamond)])
    out = bounding_rect.run(None, {"predictions": found})
    (d,) = out["detections_with_rect"].items
    # the mask's outline is the diamond's pixels: within a pixel of its corners
    assert np.abs(np.array(sorted(map(tuple, d["rect"]))) - [(10, 50), (50, 10), (50, 90), (90, 50)]).max() <= 1
    assert d["angle"] == pytest.approx(45.0, abs=1) and d["rect_width"] == pytest.approx(40 * 2 ** 0.5, abs=1)
    assert corners(d) == pytest.approx((10, 10, 90, 90), abs=1)
    # serialised as Roboflow writes it: the rectangle's sides over the box's width and height
    (written,) = out["detections_with_rect"].serialize()["predictions"]
    assert written["width"] == d["rect_width"] and "rect_width" not in written
    with pytest.raises(ValueError, match="masks"):
        bounding_rect.run(None, {"predictions": Detections(100, 100, [box("gem", 1, 1, 5, 5)])})


def test_the_rectangle_is_in_opencv_4s_convention_whatever_opencv_runs() -> None:
    """Roboflow's engine runs OpenCV 4 (angle in (0, 90]); OpenCV 5 turns the same rectangle by a quarter."""
    (w, h), angle, rect_corners = bounding_rect.min_area_rect(np.array([[0, 0], [10, 0], [10, 5], [0, 5]],
                                                                       np.float32))
    assert ((w, h), angle) == ((5.0, 10.0), 90.0)
    assert np.round(rect_corners).tolist() == [[0, 0], [10, 0], [10, 5], [0, 5]]
    tilted = np.array([[0, 0], [40, 10], [35, 30], [-5, 20]], np.float32)
    (w, h), angle, rect_corners = bounding_rect.min_area_rect(tilted)
    assert 0 < angle <= 90 and sorted([w, h]) == pytest.approx(sorted(cv2.minAreaRect(tilted)[1]))


def test_template_matching_finds_the_template_once_after_nms() -> None:
    pixels = np.random.default_rng(3).integers(0, 256, (60, 80, 3), dtype=np.uint8)
    template = Image(pixels[10:22, 20:35].copy(), "template")
    p = {"image": Image(pixels, "photo"), "template": template, "matching_threshold": 0.8, "apply_nms": True,
         "nms_threshold": 0.5}
    out = template_matching.run(None, p)
    assert out["number_of_matches"] == 1
    assert [(d["class"], corners(d)) for d in out["predictions"].items] == [("template_match", (20, 10, 35, 22))]
    too_large = {**p, "template": Image(np.zeros((70, 10, 3), np.uint8), "t")}
    with pytest.raises(ValueError, match="larger than the image"):
        template_matching.run(None, too_large)


def test_template_matching_suppresses_overlaps_as_supervision_does_in_memory_linear_in_the_places() -> None:
    """Every place above a low threshold is a match (here all 8,281 of them): supervision's NMS would build their
    8,281 x 8,281 IoU matrix (550 MB; a photo gives hundreds of thousands of places, more than any memory); the
    greedy suppression keeps what supervision keeps, best correlation first, in a few MB."""
    import tracemalloc

    import supervision as sv

    rng = np.random.default_rng(5)
    corners_ = rng.uniform(0, 500, (600, 2))
    boxes = np.concatenate([corners_, corners_ + rng.uniform(10, 60, (600, 2))], axis=1).astype(np.float32)
    scores = rng.uniform(0, 1, 600).astype(np.float32)
    expected = np.nonzero(sv.box_non_max_suppression(np.c_[boxes, scores], 0.5))[0]
    assert sorted(template_matching._suppressed_around_best(boxes, scores, 0.5).tolist()) == expected.tolist()

    pixels = rng.integers(0, 256, (100, 100, 3), dtype=np.uint8)
    p = {"image": Image(pixels, "photo"), "template": Image(pixels[40:50, 40:50].copy(), "t"),
         "matching_threshold": -1.0, "apply_nms": True, "nms_threshold": 0.5}
    tracemalloc.start()
    try:
        out = template_matching.run(None, p)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 32 * 2**20, f"{peak / 2**20:.0f} MB"
    assert corners(out["predictions"].items[0]) == (40, 40, 50, 50)  # the best: where the template was cut
    assert 64 <= out["number_of_matches"] < 8281


def test_the_reference_path_is_drawn_as_opencv_draws_an_open_polyline() -> None:
    blank = np.zeros((50, 60, 3), np.uint8)
    p = {"image": Image(blank, "photo"), "color": "rgb(255, 0, 0)", "thickness": 3,
         "reference_path": [[5, 5], [50, 10], [30, 40]], "copy_image": True}
    out = reference_path_visualization(None, p)
    expected = cv2.polylines(blank.copy(), [np.array([[5, 5], [50, 10], [30, 40]], np.int32)], False, (0, 0, 255), 3)
    assert (out["image"].array == expected).all() and not blank.any()
    # copy_image false draws on the image itself, as every drawing block does
    reference_path_visualization(None, {**p, "copy_image": False})
    assert (blank == expected).all()


def moving_square(frames: int) -> list[np.ndarray]:
    """A still textured background; from frame 5 a red square moving right."""
    background = np.random.default_rng(1).integers(0, 256, (60, 80, 3), dtype=np.uint8)
    out = []
    for i in range(frames):
        frame = background.copy()
        if i >= 5:
            frame[20:40, 10 + i * 4:30 + i * 4] = (0, 0, 255)
        out.append(frame)
    return out


def run_video(steps: list[dict[str, Any]], outputs: dict[str, str], frames: list[np.ndarray],
              name: str = "clip.mp4") -> list[dict[str, Any]]:
    definition = {"version": "1.0", "inputs": [{"type": "WorkflowImage", "name": "image"}], "steps": steps,
                  "outputs": [{"type": "JsonField", "name": n, "selector": s} for n, s in outputs.items()]}
    runner = WorkflowRunner(compile_workflow(definition), LoadedModels({}), {})
    video = VideoState(name, 10.0, 10.0)
    return [serialize(runner.run(f, name, frame=video.frame(i, i / 10)), on_image=lambda im: im.array)
            for i, f in enumerate(frames)]


MOTION = {"type": "roboflow_core/motion_detection@v1", "name": "motion", "image": "$inputs.image", "history": 3,
          "minimum_contour_area": 50}


def test_motion_is_found_when_the_square_appears_with_an_alarm_at_its_start() -> None:
    out = run_video([MOTION], {"motion": "$steps.motion.motion", "alarm": "$steps.motion.alarm",
                               "boxes": "$steps.motion.detections", "zones": "$steps.motion.motion_zones"},
                    moving_square(8))
    assert [o["motion"] for o in out] == [False] * 5 + [True, True, True]
    assert [o["alarm"] for o in out] == [False] * 5 + [True, False, False]
    (appeared,) = out[5]["boxes"]["predictions"]
    assert (appeared["class"], corners(appeared)) == ("motion", (30, 20, 50, 40))
    assert len(out[5]["zones"]) == 1 and len(out[5]["zones"][0]) >= 3
    # a zone left of the square clips it away
    clipped = run_video([{**MOTION, "detection_zone": [[0, 0], [25, 0], [25, 60], [0, 60]]}],
                        {"motion": "$steps.motion.motion"}, moving_square(6))
    assert [o["motion"] for o in clipped] == [False] * 6


def test_each_video_learns_its_own_background() -> None:
    steps = [{"type": "roboflow_core/background_subtraction@v1", "name": "bg", "image": "$inputs.image",
              "history": 3}]
    first = run_video(steps, {"mask": "$steps.bg.image"}, moving_square(6))
    assert first[4]["mask"].sum() == 0 and first[5]["mask"][20:40, 30:50].all()
    # the next video starts with an empty model: its first frame is all foreground again
    again = run_video(steps, {"mask": "$steps.bg.image"}, moving_square(1), name="next.mp4")
    assert again[0]["mask"].all()


def test_a_dynamic_zone_simplifies_a_mask_to_its_corners() -> None:
    # a quadrilateral outline with extra points along its sides and a dent (the convex hull removes it)
    outline = [(10, 10), (50, 12), (90, 14), (88, 50), (86, 90), (50, 70), (12, 88), (11, 50)]
    d = box("table", 10, 10, 90, 90, points=[{"x": float(x), "y": float(y)} for x, y in outline])
    p = {"predictions": Detections(100, 100, [d]), "required_number_of_vertices": 4, "scale_ratio": 1.0,
         "apply_least_squares": False, "midpoint_fraction": 1.0}
    out = dynamic_zone.run(None, p)
    (zone,) = out["zones"]
    assert sorted(map(tuple, zone)) == [(10, 10), (12, 88), (86, 90), (90, 14)] and out["simplification_converged"]
    (found,) = out["predictions"].items
    assert found["polygon"] == zone and [(q["x"], q["y"]) for q in found["points"]] == [tuple(v) for v in zone]
    # twice the size about its centroid
    (bigger,) = dynamic_zone.run(None, {**p, "scale_ratio": 2.0})["zones"]
    assert np.ptp(np.array(bigger)[:, 0]) == pytest.approx(2 * np.ptp(np.array(zone)[:, 0]), abs=2)
    # a triangle cannot give 4 corners: padded with its last, and said so
    triangle = box("t", 0, 0, 40, 40, points=[{"x": 0.0, "y": 0.0}, {"x": 40.0, "y": 0.0}, {"x": 0.0, "y": 40.0}])
    out = dynamic_zone.run(None, {**p, "predictions": Detections(100, 100, [triangle])})
    assert len(out["zones"][0]) == 4 and out["zones"][0][3] == out["zones"][0][2]
    assert not out["simplification_converged"]


def test_a_dynamic_zone_refits_its_sides_by_least_squares() -> None:
    # a square of side 80 traced with many points, its corners rounded off: the fitted sides meet at the corners
    side = np.linspace(14, 86, 19)
    outline = ([(x, 10.0) for x in side] + [(90.0, y) for y in side] + [(x, 90.0) for x in side[::-1]]
               + [(10.0, y) for y in side[::-1]])
    d = box("sheet", 10, 10, 90, 90, points=[{"x": x, "y": y} for x, y in outline])
    p = {"predictions": Detections(100, 100, [d]), "required_number_of_vertices": 4, "scale_ratio": 1.0,
         "apply_least_squares": True, "midpoint_fraction": 0.8}
    # vertical sides have no y = a x + b: the square is turned a little so every side has a slope
    turned = cv2.transform(np.array([outline]), cv2.getRotationMatrix2D((50, 50), 10, 1.0))[0]
    d["points"] = [{"x": float(x), "y": float(y)} for x, y in turned]
    (zone,) = dynamic_zone.run(None, p)["zones"]
    corners_turned = cv2.transform(np.array([[(10.0, 10.0), (90.0, 10.0), (90.0, 90.0), (10.0, 90.0)]]),
                                   cv2.getRotationMatrix2D((50, 50), 10, 1.0))[0]
    for corner in corners_turned:
        assert min(np.hypot(*(np.array(v) - corner)) for v in zone) <= 1.5
