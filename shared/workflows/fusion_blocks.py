"""Roboflow's fusion and analysis blocks as the built-in executor compiles them: the roll-up of crops'
detections into their parent image, overlap analysis, nearest neighbours, dynamic zones and the minimum-area
rectangle of masks, template matching, the reference path drawing, and the motion blocks that keep a background
model per video (run by ``worker_svc.workflows.rollup``, ``fusion``, ``zones`` and ``motion``)."""

from __future__ import annotations

from typing import Any

from shared.workflows.blockspec import BlockSpec, literal, types_of
from shared.workflows.errors import WorkflowInvalid

_IMAGE = {"images": "image"}
CONFIDENCE_STRATEGIES = ("max", "mean", "min")
ANCHORS = ("CENTER", "CENTER_LEFT", "CENTER_RIGHT", "TOP_CENTER", "TOP_LEFT", "TOP_RIGHT", "BOTTOM_LEFT",
           "BOTTOM_CENTER", "BOTTOM_RIGHT", "KEYPOINT")
_MOTION = {"image": "image", "threshold": "value", "history": "value"}

FUSION_BLOCKS: list[BlockSpec] = [
    BlockSpec("detections_list_rollup", types_of("detections_list_rollup", (1,), "DetectionsListRollUp"),
              {"parent_detection": "predictions", "child_detections": "data", "confidence_strategy": "value",
               "overlap_threshold": "value", "keypoint_merge_threshold": "value"},
              ("parent_detection", "child_detections"), ("rolled_up_detections", "crop_zones"),
              {"confidence_strategy": "max", "overlap_threshold": 0.0, "keypoint_merge_threshold": 10.0}),
    BlockSpec("overlap_analysis", types_of("overlap_analysis", (1,), "OverlapAnalysis"),
              {"reference_predictions": "predictions", "candidate_predictions": "predictions",
               "min_overlap": "value"},
              ("reference_predictions", "candidate_predictions"), ("overlaps",), {"min_overlap": 0.1}),
    BlockSpec("detections_nearest_neighbor", types_of("detections_nearest_neighbor", (1,)),
              {"query_predictions": "predictions", "target_predictions": "predictions", "query_point": "value",
               "target_point": "value", "query_keypoint_name": "value", "target_keypoint_name": "value",
               "max_distance": "value"},
              ("query_predictions", "target_predictions"),
              ("query_predictions", "matched_query_detections", "matched_target_detections"),
              {"query_point": "CENTER", "target_point": "CENTER", "query_keypoint_name": None,
               "target_keypoint_name": None, "max_distance": None}),
    BlockSpec("dynamic_zone", types_of("dynamic_zone", (1,), "DynamicZone"),
              {"predictions": "predictions", "required_number_of_vertices": "value", "scale_ratio": "value",
               "apply_least_squares": "value", "midpoint_fraction": "value"},
              ("predictions", "required_number_of_vertices"), ("zones", "predictions", "simplification_converged"),
              {"scale_ratio": 1.0, "apply_least_squares": False, "midpoint_fraction": 1.0}),
    BlockSpec("bounding_rect", types_of("bounding_rect", (1,)), {"predictions": "predictions"}, ("predictions",),
              ("detections_with_rect",)),
    BlockSpec("template_matching", types_of("template_matching", (1,)),
              {"image": "image", "template": "image", "matching_threshold": "value", "apply_nms": "value",
               "nms_threshold": "value"},
              ("image", "template"), ("predictions", "number_of_matches"),
              {"matching_threshold": 0.8, "apply_nms": True, "nms_threshold": 0.5},
              {**_IMAGE, "templates": "template"}),
    BlockSpec("reference_path_visualization", types_of("reference_path_visualization", (1,)),
              {"image": "image", "copy_image": "value", "reference_path": "value", "color": "value",
               "thickness": "value"},
              ("image", "reference_path"), ("image",), {"copy_image": True, "color": "#5bb573", "thickness": 2},
              _IMAGE),
    # a background model learnt over a video's frames: state per video (a still image is its own video)
    BlockSpec("background_subtraction", types_of("background_subtraction", (1,)), _MOTION, ("image",), ("image",),
              {"threshold": 16, "history": 30}, _IMAGE, stateful=True),
    BlockSpec("motion_detection", types_of("motion_detection", (1,)),
              {**_MOTION, "minimum_contour_area": "value", "morphological_kernel_size": "value",
               "detection_zone": "value", "suppress_first_detections": "value"},
              ("image",), ("motion", "alarm", "detections", "motion_zones"),
              {"threshold": 16, "history": 30, "minimum_contour_area": 200, "morphological_kernel_size": 3,
               "detection_zone": None, "suppress_first_detections": True}, _IMAGE, stateful=True),
]


def check_fusion(step: dict[str, Any], block: BlockSpec, where: str) -> None:
    """Roboflow's manifest constraints on the literal parameters of these blocks."""
    strategy = literal(step, "confidence_strategy")
    if block.name == "detections_list_rollup" and strategy is not None and strategy not in CONFIDENCE_STRATEGIES:
        raise WorkflowInvalid(f"{where}: confidence_strategy must be one of {CONFIDENCE_STRATEGIES}")
    threshold = literal(step, "overlap_threshold")
    if block.name == "detections_list_rollup" and threshold is not None and not 0 <= float(threshold) <= 1:
        raise WorkflowInvalid(f"{where}: overlap_threshold must be between 0 and 1")
    for key in ("query_point", "target_point"):
        point = literal(step, key)
        if block.name == "detections_nearest_neighbor" and point is not None and point not in ANCHORS:
            raise WorkflowInvalid(f"{where}: {key} must be one of {ANCHORS}")
    vertices = literal(step, "required_number_of_vertices")
    if block.name == "dynamic_zone" and vertices is not None and (not isinstance(vertices, int) or vertices < 1):
        raise WorkflowInvalid(f"{where}: required_number_of_vertices must be a positive whole number")
    thickness = literal(step, "thickness")
    if block.name == "reference_path_visualization" and isinstance(thickness, int) and thickness <= 0:
        raise WorkflowInvalid(f"{where}: thickness must be greater than zero")
