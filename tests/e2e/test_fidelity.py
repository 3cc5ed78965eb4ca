"""The fidelity harness's fixed subset (``bench.fidelity``): definitions of our own, written as Roboflow's editor
saves them, run through the built-in executor and through Roboflow's engine with the same models and photos; each
answer equal output for output, and each difference kept on purpose shown with both answers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import cv2
import numpy as np
import pytest

from bench.compat_runs import builtin_way
from bench.fidelity import Verdict, judge, sample_images
from bench.fidelity_models import ModelKit
from bench.fidelity_named import NAMED
from worker_svc.workflows.engine_client import EngineHost

IMAGE = {"type": "WorkflowImage", "name": "image"}


def _workflow(steps: list[dict[str, Any]], outputs: dict[str, str]) -> dict[str, Any]:
    return {"version": "1.0", "inputs": [IMAGE], "steps": steps,
            "outputs": [{"type": "JsonField", "name": n, "selector": s} for n, s in outputs.items()]}


def _detect(version: int = 3, name: str = "model", **extra: Any) -> dict[str, Any]:
    return {"type": f"roboflow_core/roboflow_object_detection_model@v{version}", "name": name,
            "images": "$inputs.image", "model_id": "yolov8n-640", **extra}


def _crop() -> dict[str, Any]:
    return {"type": "roboflow_core/dynamic_crop@v1", "name": "crop", "images": "$inputs.image",
            "predictions": "$steps.model.predictions"}


def _drawn(block: str, **extra: Any) -> dict[str, Any]:
    return {"type": f"roboflow_core/{block}", "name": "drawn", "image": "$inputs.image",
            "predictions": "$steps.model.predictions", **extra}


EQUAL = {
    "detection v1, v2 and v3": _workflow(
        [_detect(1, "one", confidence=0.3), _detect(2, "two", class_filter=["person"]),
         _detect(3, "three", confidence_mode="custom", custom_confidence=0.5)],
        {"one": "$steps.one.predictions", "two": "$steps.two.*", "three": "$steps.three.predictions"}),
    "instance segmentation": _workflow(
        [{"type": "roboflow_core/roboflow_instance_segmentation_model@v2", "name": "seg", "images": "$inputs.image",
          "model_id": "yolov8n-seg-640"}], {"seg": "$steps.seg.predictions"}),
    "segmentation's bounding rectangles": _workflow(
        [{"type": "roboflow_core/roboflow_instance_segmentation_model@v3", "name": "seg", "images": "$inputs.image",
          "model_id": "yolov8n-seg-640"},
         {"type": "roboflow_core/bounding_rect@v1", "name": "rect", "predictions": "$steps.seg.predictions"}],
        {"rects": "$steps.rect.detections_with_rect"}),
    "keypoints, drawn": _workflow(
        [{"type": "roboflow_core/roboflow_keypoint_detection_model@v3", "name": "model", "images": "$inputs.image",
          "model_id": "yolov8n-pose-640"}, _drawn("keypoint_visualization@v1")],
        {"poses": "$steps.model.predictions", "drawn": "$steps.drawn.image"}),
    "single- and multi-label classification": _workflow(
        [{"type": "roboflow_core/roboflow_classification_model@v2", "name": "single", "images": "$inputs.image",
          "model_id": "colours/1"},
         {"type": "roboflow_core/roboflow_multi_label_classification_model@v2", "name": "multi",
          "images": "$inputs.image", "model_id": "colours-ml/1", "confidence": 0.3}],
        {"single": "$steps.single.predictions", "multi": "$steps.multi.predictions"}),
    "detect, crop, detect on each crop, in both coordinate systems": {**_workflow(
        [_detect(), _crop(), _detect(2, "second", images="$steps.crop.crops")],
        {"on_image": "$steps.second.predictions"}), "outputs": [
        {"type": "JsonField", "name": "on_image", "selector": "$steps.second.predictions"},
        {"type": "JsonField", "name": "on_crops", "selector": "$steps.second.predictions",
         "coordinates_system": "own"}]},
    # every output of a step run per crop (a wildcard): one dict per crop, [] where no crop was made
    "all outputs of a classifier per crop, with and without crops": _workflow(
        [_detect(), _crop(), _detect(2, "giraffes", class_filter=["giraffe"]),
         {**_crop(), "name": "none", "predictions": "$steps.giraffes.predictions"},
         *({"type": "roboflow_core/roboflow_classification_model@v2", "name": name, "images": f"$steps.{crops}.crops",
            "model_id": "colours/1"} for name, crops in (("kind", "crop"), ("never", "none")))],
        {"kinds": "$steps.kind.*", "nothing": "$steps.never.*"}),
    "crops of crops, classified": _workflow(
        [_detect(), _crop(), _detect(2, "inner", images="$steps.crop.crops"),
         {"type": "roboflow_core/dynamic_crop@v1", "name": "again", "images": "$steps.crop.crops",
          "predictions": "$steps.inner.predictions"},
         {"type": "roboflow_core/roboflow_classification_model@v2", "name": "kind", "images": "$steps.again.crops",
          "model_id": "colours/1"}],
        {"kinds": "$steps.kind.*", "inner": "$steps.inner.predictions"}),
    "offset boxes": _workflow(
        [_detect(), {"type": "roboflow_core/detection_offset@v1", "name": "wider",
                     "predictions": "$steps.model.predictions", "offset_width": 20, "offset_height": 10}],
        {"wider": "$steps.wider.predictions"}),
    "detect, crop, classify each crop": _workflow(
        [_detect(), _crop(), {"type": "roboflow_core/roboflow_classification_model@v2", "name": "kind",
                              "images": "$steps.crop.crops", "model_id": "colours/1"}],
        {"kinds": "$steps.kind.predictions", "boxes": "$steps.model.predictions"}),
    "filter, count": _workflow(
        [_detect(), {"type": "roboflow_core/detections_filter@v1", "name": "people",
                     "predictions": "$steps.model.predictions", "operations": [
                         {"type": "DetectionsFilter", "filter_operation": {
                             "type": "StatementGroup", "operator": "and", "statements": [{
                                 "type": "BinaryStatement", "left_operand": {
                                     "type": "DynamicOperand", "operations": [
                                         {"type": "ExtractDetectionProperty", "property_name": "class_name"}]},
                                 "comparator": {"type": "in (Sequence)"},
                                 "right_operand": {"type": "StaticOperand", "value": ["person"]}}]}}]},
         {"type": "roboflow_core/property_definition@v1", "name": "count", "data": "$steps.people.predictions",
          "operations": [{"type": "SequenceLength"}]}],
        {"people": "$steps.people.predictions", "count": "$steps.count.output"}),
    "boxes and labels drawn": _workflow(
        [_detect(), _drawn("bounding_box_visualization@v1"),
         {"type": "roboflow_core/label_visualization@v1", "name": "labelled", "image": "$steps.drawn.image",
          "predictions": "$steps.model.predictions", "text": "Class and Confidence"}],
        {"drawn": "$steps.labelled.image"}),
    "classical: blur, grey, threshold": _workflow(
        [{"type": "roboflow_core/image_blur@v1", "name": "blur", "image": "$inputs.image", "blur_type": "gaussian",
          "kernel_size": 9},
         {"type": "roboflow_core/convert_grayscale@v1", "name": "grey", "image": "$steps.blur.image"},
         {"type": "roboflow_core/threshold@v1", "name": "binary", "image": "$steps.grey.image",
          "threshold_type": "binary", "thresh_value": 127, "max_value": 255}],
        {"binary": "$steps.binary.image"}),
    "consensus of two detectors": _workflow(
        [_detect(2, "a"), _detect(2, "b", confidence=0.5),
         {"type": "roboflow_core/detections_consensus@v1", "name": "agreed",
          "predictions_batches": ["$steps.a.predictions", "$steps.b.predictions"], "required_votes": 2}],
        {"agreed": "$steps.agreed.predictions", "present": "$steps.agreed.object_present"}),
}



def _seg() -> dict[str, Any]:
    return {"type": "roboflow_core/roboflow_instance_segmentation_model@v2", "name": "model",
            "images": "$inputs.image", "model_id": "yolov8n-seg-640"}


def _image_step(block: str, name: str, source: str = "$inputs.image", **extra: Any) -> dict[str, Any]:
    return {"type": f"roboflow_core/{block}", "name": name, "image": source, **extra}


# every visualisation of detections: each draws the detector's boxes on the photo
EQUAL |= {f"{block} drawn": _workflow([_detect(), _drawn(f"{block}@v1")], {"drawn": "$steps.drawn.image"})
          for block in ("background_color_visualization", "blur_visualization", "circle_visualization",
                        "color_visualization", "corner_visualization", "crop_visualization", "dot_visualization",
                        "ellipse_visualization", "pixelate_visualization", "triangle_visualization")}
EQUAL |= {f"{block} drawn on masks": _workflow([_seg(), _drawn(f"{block}@v1")], {"drawn": "$steps.drawn.image"})
          for block in ("mask_visualization", "polygon_visualization", "halo_visualization")}
EQUAL |= {
    "labels v2, classification labels, two models compared": _workflow(
        [_detect(), _detect(2, "other", confidence=0.6),
         {"type": "roboflow_core/label_visualization@v2", "name": "labels", "image": "$inputs.image",
          "predictions": "$steps.model.predictions"},
         {"type": "roboflow_core/roboflow_classification_model@v2", "name": "colour", "images": "$inputs.image",
          "model_id": "colours/1"},
         {"type": "roboflow_core/classification_label_visualization@v1", "name": "named",
          "image": "$steps.labels.image", "predictions": "$steps.colour.predictions"},
         {"type": "roboflow_core/model_comparison_visualization@v1", "name": "compared", "image": "$inputs.image",
          "predictions_a": "$steps.model.predictions", "predictions_b": "$steps.other.predictions"}],
        {"named": "$steps.named.image", "compared": "$steps.compared.image"}),
    "static crops, resize, rotate, flip": _workflow(
        [{"type": "roboflow_core/absolute_static_crop@v1", "name": "fixed", "images": "$inputs.image",
          "x_center": 300, "y_center": 400, "width": 200, "height": 300},
         {"type": "roboflow_core/relative_statoic_crop@v1", "name": "relative", "images": "$inputs.image",
          "x_center": 0.5, "y_center": 0.5, "width": 0.4, "height": 0.3},
         _image_step("image_preprocessing@v1", "small", task_type="resize", width=320, height=240),
         _image_step("image_preprocessing@v1", "turned", "$steps.small.image", task_type="rotate",
                     rotation_degrees=90),
         _image_step("image_preprocessing@v1", "flipped", "$steps.turned.image", task_type="flip",
                     flip_type="horizontal")],
        {"fixed": "$steps.fixed.crops", "relative": "$steps.relative.crops", "flipped": "$steps.flipped.image"}),
    "contrast, morphology, contours, colours": _workflow(
        [_image_step("contrast_enhancement@v1", "contrast", clip_limit=2.0, normalize_brightness=True),
         _image_step("convert_grayscale@v1", "grey", "$steps.contrast.image"),
         _image_step("threshold@v1", "binary", "$steps.grey.image", threshold_type="binary", thresh_value=127,
                     max_value=255),
         # Roboflow's morphology turns its input grey itself: it takes a colour image
         _image_step("morphological_transformation@v1", "closed", operation="Closing"),
         _image_step("morphological_transformation@v2", "opened", operation="Opening then Closing"),
         _image_step("contours_detection@v1", "contours"),
         _image_step("pixel_color_count@v1", "reds", target_color="#C83232", tolerance=40),
         _image_step("camera_focus@v1", "focus")],
        {"binary": "$steps.binary.image", "closed": "$steps.closed.image", "opened": "$steps.opened.image",
         "contours": "$steps.contours.number_contours",
         "reds": "$steps.reds.matching_pixels_count", "focus": "$steps.focus.focus_measure"}),
    "slices detected and stitched": _workflow(
        [_image_step("image_slicer@v1", "slices", slice_width=320, slice_height=320),
         _image_step("image_slicer@v2", "slices2", slice_width=400, slice_height=400),
         _detect(2, "on_slices", images="$steps.slices.slices"),
         {"type": "roboflow_core/detections_stitch@v1", "name": "stitched", "reference_image": "$inputs.image",
          "predictions": "$steps.on_slices.predictions", "overlap_filtering_strategy": "nms"}],
        {"stitched": "$steps.stitched.predictions", "slices2": "$steps.slices2.slices"}),
    "transform, rename, merge, overlap": _workflow(
        [_detect(), {"type": "roboflow_core/detections_transformation@v1", "name": "bigger",
                     "predictions": "$steps.model.predictions", "operations": [
                         {"type": "DetectionsFilter", "filter_operation": {
                             "type": "StatementGroup", "statements": [{
                                 "type": "BinaryStatement", "left_operand": {
                                     "type": "DynamicOperand", "operations": [
                                         {"type": "ExtractDetectionProperty", "property_name": "size"}]},
                                 "comparator": {"type": "(Number) >="},
                                 "right_operand": {"type": "StaticOperand", "value": 5000}}]}}]},
         {"type": "roboflow_core/detections_merge@v1", "name": "merged", "predictions": "$steps.bigger.predictions"},
         {"type": "roboflow_core/overlap@v1", "name": "on_bus", "predictions": "$steps.model.predictions",
          "overlap_class_name": "bus"},
         {"type": "roboflow_core/overlap_analysis@v1", "name": "overlaps",
          "reference_predictions": "$steps.model.predictions", "candidate_predictions": "$steps.bigger.predictions"},
         {"type": "roboflow_core/detections_nearest_neighbor@v1", "name": "nearest",
          "query_predictions": "$steps.model.predictions", "target_predictions": "$steps.bigger.predictions"}],
        {"bigger": "$steps.bigger.predictions", "merged": "$steps.merged.predictions",
         "on_bus": "$steps.on_bus.overlaps", "overlaps": "$steps.overlaps.overlaps",
         "nearest": "$steps.nearest.matched_target_detections"}),
    "expression, first non-empty, csv": _workflow(
        [_detect(), {"type": "roboflow_core/property_definition@v1", "name": "count",
                     "data": "$steps.model.predictions", "operations": [{"type": "SequenceLength"}]},
         {"type": "roboflow_core/expression@v1", "name": "verdict", "data": {"n": "$steps.count.output"},
          "switch": {"type": "CasesDefinition", "cases": [{"type": "CaseDefinition", "condition": {
              "type": "StatementGroup", "statements": [{"type": "BinaryStatement",
                                                        "left_operand": {"type": "DynamicOperand", "operand_name": "n"},
                                                        "comparator": {"type": "(Number) >="},
                                                        "right_operand": {"type": "StaticOperand", "value": 3}}]},
              "result": {"type": "StaticCaseResult", "value": "busy"}}],
              "default": {"type": "StaticCaseResult", "value": "quiet"}}},
         {"type": "roboflow_core/first_non_empty_or_default@v1", "name": "first",
          "data": ["$steps.model.predictions"], "default": "none"},
         {"type": "roboflow_core/csv_formatter@v1", "name": "csv", "columns_data": {
             "verdict": "$steps.verdict.output", "count": "$steps.count.output"}}],
        {"verdict": "$steps.verdict.output", "first": "$steps.first.output", "csv": "$steps.csv.csv_content"}),
    "classes replaced by a classifier of the crops, collapsed": _workflow(
        [_detect(), _crop(), {"type": "roboflow_core/roboflow_classification_model@v2", "name": "kind",
                              "images": "$steps.crop.crops", "model_id": "colours/1"},
         {"type": "roboflow_core/detections_classes_replacement@v1", "name": "renamed",
          "object_detection_predictions": "$steps.model.predictions",
          "classification_predictions": "$steps.kind.predictions"},
         {"type": "roboflow_core/dimension_collapse@v1", "name": "all_kinds", "data": "$steps.kind.predictions"}],
        {"renamed": "$steps.renamed.predictions", "all_kinds": "$steps.all_kinds.output"}),
    "a zone from a mask, perspective": _workflow(
        [_seg(), {"type": "roboflow_core/dynamic_zone@v1", "name": "zone", "predictions": "$steps.model.predictions",
                  "required_number_of_vertices": 4},
         {"type": "roboflow_core/perspective_correction@v1", "name": "flat", "images": "$inputs.image",
          "perspective_polygons": [[100, 100], [700, 120], [690, 900], [90, 880]], "transformed_rect_width": 300,
          "transformed_rect_height": 400, "warp_image": True},
         ],
        {"zones": "$steps.zone.zones", "flat": "$steps.flat.warped_image"}),
    "continue if there are people": _workflow(
        [_detect(), {"type": "roboflow_core/continue_if@v1", "name": "people_only", "next_steps": ["$steps.drawn"],
                     "condition_statement": {"type": "StatementGroup", "statements": [{
                         "type": "BinaryStatement", "left_operand": {"type": "DynamicOperand", "operand_name": "d",
                                                                     "operations": [{"type": "SequenceLength"}]},
                         "comparator": {"type": "(Number) >="}, "right_operand": {"type": "StaticOperand",
                                                                                   "value": 4}}]},
                     "evaluation_parameters": {"d": "$steps.model.predictions"}},
         _drawn("bounding_box_visualization@v1")], {"drawn": "$steps.drawn.image"}),
}

EQUAL |= {
    "the video blocks on a still image (a video of one frame)": _workflow(
        [_detect(), {"type": "roboflow_core/byte_tracker@v3", "name": "tracker", "image": "$inputs.image",
                     "detections": "$steps.model.predictions"},
         {"type": "roboflow_core/line_counter@v2", "name": "counter", "image": "$inputs.image",
          "detections": "$steps.tracker.tracked_detections", "line_segment": [[400, 0], [400, 1080]]},
         {"type": "roboflow_core/time_in_zone@v3", "name": "zone", "image": "$inputs.image",
          "detections": "$steps.tracker.tracked_detections", "zone": [[0, 0], [600, 0], [600, 1000], [0, 1000]]},
         {"type": "roboflow_core/stabilize_detections@v1", "name": "steady", "image": "$inputs.image",
          "detections": "$steps.tracker.tracked_detections"},
         {"type": "roboflow_core/track_class_lock@v1", "name": "locked", "image": "$inputs.image",
          "detections": "$steps.tracker.tracked_detections"},
         {"type": "roboflow_core/trace_visualization@v1", "name": "trace", "image": "$inputs.image",
          "predictions": "$steps.tracker.tracked_detections"},
         {"type": "roboflow_core/reference_path_visualization@v1", "name": "path", "image": "$steps.trace.image",
          "reference_path": [[10, 10], [300, 200], [600, 900]]},
         {"type": "roboflow_core/time_in_zone@v2", "name": "zone_v2", "image": "$inputs.image",
          "detections": "$steps.tracker.tracked_detections", "zone": [[0, 0], [600, 0], [600, 1000], [0, 1000]]},
         {"type": "roboflow_core/frame_delay@v1", "name": "before", "image": "$inputs.image",
          "data": "$steps.model.predictions", "offset": -1, "default_value": "none yet"},
         {"type": "roboflow_core/background_subtraction@v1", "name": "foreground", "image": "$inputs.image"},
         {"type": "roboflow_core/motion_detection@v1", "name": "motion", "image": "$inputs.image"}],
        {"tracks": "$steps.tracker.tracked_detections", "count_in": "$steps.counter.count_in",
         "in_zone": "$steps.zone.timed_detections", "in_zone_v2": "$steps.zone_v2.timed_detections",
         "before": "$steps.before.output", "before_available": "$steps.before.is_available",
         "steady": "$steps.steady.tracked_detections",
         "locked": "$steps.locked.tracked_detections", "drawn": "$steps.path.image",
         "foreground": "$steps.foreground.image", "motion": "$steps.motion.motion"}),
    "detected classes read as text, left to right": _workflow(
        [_detect(), {"type": "roboflow_core/stitch_ocr_detections@v2", "name": "text",
                     "predictions": "$steps.model.predictions", "reading_direction": "left_to_right",
                     "stitching_algorithm": "tolerance", "tolerance": 50, "delimiter": " "}],
        {"text": "$steps.text.ocr_text"}),
    "a step let through by a rate limiter": _workflow(
        [{"type": "roboflow_core/rate_limiter@v1", "name": "limit", "cooldown_seconds": 0.001,
          "depends_on": "$inputs.image", "next_steps": ["$steps.grey"]},
         {"type": "roboflow_core/convert_grayscale@v1", "name": "grey", "image": "$inputs.image"}],
        {"grey": "$steps.grey.image"}),
    "json parsed from a parameter": {
        "version": "1.0", "inputs": [IMAGE, {"type": "WorkflowParameter", "name": "raw",
                                             "default_value": '{"label": "cat", "score": 0.5}'}],
        "steps": [{"type": "roboflow_core/json_parser@v1", "name": "parsed", "raw_json": "$inputs.raw",
                   "expected_fields": ["label", "score"]}],
        "outputs": [{"type": "JsonField", "name": "label", "selector": "$steps.parsed.label"},
                    {"type": "JsonField", "name": "score", "selector": "$steps.parsed.score"},
                    {"type": "JsonField", "name": "error", "selector": "$steps.parsed.error_status"}]},
}

# a definition for each difference kept on purpose, and the built-in executor's and Roboflow's answers there
NAMED_CASES = {
    "empty-detections-size": ({**_workflow([_detect(1, class_filter=["giraffe"])], {}), "outputs": [
        {"type": "JsonField", "name": "found", "selector": "$steps.model.predictions", "coordinates_system": "own"}]},
                              "found", lambda ours, theirs: (ours["image"], theirs["image"]) == (
                                  {"width": 810, "height": 1080}, {"width": None, "height": None})),
    "crop-detections-size": (_workflow([_detect(), _crop()], {"in_crops": "$steps.crop.predictions"}),
                             "in_crops", lambda ours, theirs: ours[0]["image"] == theirs[0]["image"] == {
                                 "width": 810, "height": 1080} and theirs[0]["predictions"][0]["x"] < ours[0][
                                 "predictions"][0]["x"]),
    "still-image-seconds": (_workflow([{"type": "roboflow_core/property_definition@v1", "name": "since",
                                        "data": "$inputs.image", "operations": [
                                            {"type": "ExtractFrameMetadata", "property_name": "seconds_since_start"}]}],
                                      {"since": "$steps.since.output"}),
                            "since", lambda ours, theirs: (ours, theirs) == (0.0, pytest.approx(-1 / 30))),
    # people found on crops of the photo's detections, gathered back per detection: Roboflow moves them by the
    # crop's origin a second time (same sizes, further right and down)
    "rollup-offset-twice": (_workflow(
        [_detect(), _crop(), _detect(2, "second", images="$steps.crop.crops"),
         {"type": "roboflow_core/dimension_collapse@v1", "name": "gathered", "data": "$steps.second.predictions"},
         {"type": "roboflow_core/detections_list_rollup@v1", "name": "rolled",
          "parent_detection": "$steps.model.predictions", "child_detections": "$steps.gathered.output"}],
        {"rolled": "$steps.rolled.rolled_up_detections"}),
        "rolled", lambda ours, theirs: len(ours["predictions"]) == len(theirs["predictions"]) > 0 and all(
            (o["width"], o["height"]) == pytest.approx((t["width"], t["height"]), abs=1e-3) and t["x"] > o["x"]
            and t["y"] > o["y"]
            for o, t in zip(ours["predictions"], theirs["predictions"], strict=True))),
    # a 60 px square cut from the photo at (200, 700), matched back: found there, or a few pixels off
    "template-match-ties": (_workflow(
        [{"type": "roboflow_core/absolute_static_crop@v1", "name": "patch", "images": "$inputs.image",
          "x_center": 200, "y_center": 700, "width": 60, "height": 60},
         {"type": "roboflow_core/template_matching@v1", "name": "match", "image": "$inputs.image",
          "template": "$steps.patch.crops", "matching_threshold": 0.6}], {"found": "$steps.match.predictions"}),
        "found", lambda ours, theirs: [(p["x"], p["y"]) for p in ours["predictions"]] == [(200, 700)]
        and [(p["x"], p["y"]) for p in theirs["predictions"]] != [(200, 700)]),
}


@pytest.fixture(scope="module")
def kit() -> Iterator[ModelKit]:
    with ModelKit.temporary() as made:
        yield made


@pytest.fixture(scope="module")
def photos() -> dict[str, np.ndarray]:
    return sample_images()


@pytest.mark.parametrize("name", list(EQUAL))
def test_the_built_in_executor_gives_roboflows_answer(name: str, kit: ModelKit, engine_host: EngineHost,
                                                      photos: dict[str, np.ndarray]) -> None:
    verdict = judge(name, EQUAL[name], photos, kit, engine_host)
    # equal, or equal but for the differences the README names (an empty set of detections' size)
    assert verdict.outcome in ("equal", "named") and not verdict.differences, verdict


@pytest.mark.parametrize("name", list(NAMED_CASES))
def test_a_difference_kept_on_purpose_is_named_with_both_answers(name: str, kit: ModelKit,
                                                                 engine_host: EngineHost,
                                                                 photos: dict[str, np.ndarray]) -> None:
    definition, output, both = NAMED_CASES[name]
    verdict: Verdict = judge(name, definition, photos, kit, engine_host, keep=True)
    assert verdict.outcome == "named" and verdict.named == [name], verdict
    ours, theirs = verdict.answers["bus.jpg"]
    assert both(ours[output], theirs[output]), (ours[output], theirs[output])


# Roboflow's dominant_color starts from random pixels (random-dominant-colour): on a photo its colour changes from run
# to run, on an image of two flat colours every start ends on the larger one, as the built-in executor's does
DOMINANT = _workflow(
    [{"type": "roboflow_core/dominant_color@v1", "name": "colour", "image": "$inputs.image"},
     {"type": "roboflow_core/pixel_color_count@v1", "name": "count", "image": "$inputs.image",
      "target_color": "$steps.colour.rgb_color"}],
    {"colour": "$steps.colour.rgb_color", "pixels": "$steps.count.matching_pixels_count"})


def test_the_dominant_colour_of_two_flat_colours_is_roboflows(kit: ModelKit, engine_host: EngineHost) -> None:
    two = np.zeros((200, 300, 3), np.uint8)
    two[:] = (40, 30, 200)
    two[:, 210:] = (200, 120, 10)
    for _ in range(3):  # three random starts of Roboflow's
        verdict = judge("dominant colour", DOMINANT, {"two.png": two}, kit, engine_host, keep=True)
        assert verdict.outcome == "equal", verdict
    assert verdict.answers["two.png"][0] == {"colour": [200, 30, 40], "pixels": 210 * 200}


# Roboflow's OCR blocks (docTR's, PaddleOCR's) run Conveyor's OCR model on the engine too: a printed page, read the
# same on both paths
OCR = _workflow([{"type": "roboflow_core/ocr_model@v1", "name": "doctr", "image": "$inputs.image"},
                 {"type": "roboflow_core/pp_ocr@v1", "name": "paddle", "images": "$inputs.image"}],
                {"doctr": "$steps.doctr.result", "paddle": "$steps.paddle.*"})


def test_both_ocr_blocks_read_a_page_and_photos_as_the_built_in_executor_does(
        kit: ModelKit, engine_host: EngineHost, photos: dict[str, np.ndarray]) -> None:
    """A photo's lines read alike too: each is cut out by Conveyor's own sampling (OpenCV 4's and 5's warps
    differ, and a letter of the bus's sign read otherwise)."""
    page = np.full((240, 640, 3), 255, np.uint8)
    cv2.putText(page, "BATCH 2026", (30, 90), cv2.FONT_HERSHEY_SIMPLEX, 2.2, (0, 0, 0), 5)
    cv2.putText(page, "conveyor ok", (30, 190), cv2.FONT_HERSHEY_SIMPLEX, 2.0, (20, 20, 20), 4)
    verdict = judge("ocr", OCR, {"page.png": page, **photos}, kit, engine_host, keep=True)
    # OCR's detections have no size on Roboflow's side (empty-detections-size)
    assert verdict.outcome == "named" and verdict.named == ["empty-detections-size"], verdict
    ours, theirs = verdict.answers["page.png"]
    assert ours["doctr"] == theirs["doctr"] == ours["paddle"]["result"] == "BATCH 2026\nconveyor ok"
    assert [p["class"] for p in theirs["paddle"]["predictions"]["predictions"]] == ["BATCH 2026", "conveyor ok"]
    assert "emisiones" in verdict.answers["bus.jpg"][1]["doctr"]


def test_the_cases_here_are_named_differences() -> None:
    """Those Roboflow's own definitions show (rollups, rate limits, random colours, empty crops) are counted by
    ``bench.fidelity``'s run over them; the rest are shown here, under the names the README lists."""
    assert set(NAMED_CASES) <= {n.name for n in NAMED}


def test_the_subset_uses_the_blocks_the_readme_says() -> None:
    """The workflows page's count of built-in blocks this subset runs through both executors."""
    from shared.config import REPO_ROOT
    from shared.workflows.catalogue import BY_TYPE

    definitions = [*EQUAL.values(), *(case[0] for case in NAMED_CASES.values()), DOMINANT, OCR]
    used = {BY_TYPE[s["type"]].name for d in definitions for s in d["steps"] if s["type"] in BY_TYPE}
    total = len({spec.name for spec in BY_TYPE.values()})
    which = f"all {total}" if len(used) == total else str(len(used))
    page = (REPO_ROOT / "docs" / "workflows.md").read_text()
    assert f"which uses {which} of the built-in executor's {total} blocks" in page


def test_roboflow_crashes_on_a_rollup_of_crop_masks_that_the_built_in_rolls_up(
        kit: ModelKit, engine_host: EngineHost, photos: dict[str, np.ndarray]) -> None:
    """rollup-offset-twice with masks: Roboflow moves a crop's masks by the crop's origin a second time, and the
    moved mask no longer fits the image (a broadcast error, every image); the built-in executor gives the children's
    masks where they are."""
    definition = _workflow(
        [_detect(), {**_crop(), "predictions": "$steps.model.predictions"},
         {**_seg(), "name": "masks", "images": "$steps.crop.crops"},
         {"type": "roboflow_core/dimension_collapse@v1", "name": "gathered", "data": "$steps.masks.predictions"},
         {"type": "roboflow_core/detections_list_rollup@v1", "name": "rolled",
          "parent_detection": "$steps.model.predictions", "child_detections": "$steps.gathered.output"}],
        {"rolled": "$steps.rolled.rolled_up_detections"})
    verdict = judge("rollup of crop masks", definition, photos, kit, engine_host)
    assert verdict.outcome == "error" and "Roboflow's engine failed" in verdict.reason, verdict
    assert "could not broadcast" in verdict.reason, verdict.reason
    ours = builtin_way(definition, kit, photos)
    assert ours.stage == "processed" and all(a["rolled"]["predictions"] for a in ours.answers.values())
    assert all("points" in p for a in ours.answers.values() for p in a["rolled"]["predictions"])
