"""Roboflow's classical image, detection and text blocks as the built-in executor compiles them (run by
``worker_svc.workflows.classical``)."""

from __future__ import annotations

from typing import Any

from shared.workflows import uql
from shared.workflows.blockspec import BlockSpec, literal, types_of
from shared.workflows.errors import BuiltinLacks, WorkflowInvalid

_IMAGE = {"images": "image"}
_STITCH = {"predictions": "predictions", "reading_direction": "value", "tolerance": "value", "delimiter": "value"}

CLASSICAL_BLOCKS: list[BlockSpec] = [
    BlockSpec("image_blur", types_of("image_blur", (1,)),
              {"image": "image", "blur_type": "value", "kernel_size": "value"}, ("image",), ("image",),
              {"blur_type": "gaussian", "kernel_size": 5}, _IMAGE),
    BlockSpec("threshold", types_of("threshold", (1,)),
              {"image": "image", "threshold_type": "value", "thresh_value": "value", "max_value": "value"},
              ("image", "thresh_value"), ("image",), {"threshold_type": "binary", "max_value": 255}, _IMAGE),
    BlockSpec("morphological_transformation", types_of("morphological_transformation", (1,)),
              {"image": "image", "kernel_size": "value", "operation": "value"}, ("image",), ("image",),
              {"kernel_size": 5, "operation": "Closing"}, _IMAGE),
    BlockSpec("morphological_transformation_v2", types_of("morphological_transformation", (2,)),
              {"image": "image", "kernel_size": "value", "operation": "value"}, ("image",), ("image",),
              {"kernel_size": 5, "operation": "Opening then Closing"}, _IMAGE),
    BlockSpec("contrast_enhancement", types_of("contrast_enhancement", (1,)),
              {"image": "image", "clip_limit": "value", "contrast_multiplier": "value",
               "normalize_brightness": "value"}, ("image",), ("image",),
              {"clip_limit": 0, "contrast_multiplier": 1.0, "normalize_brightness": False}, _IMAGE),
    BlockSpec("contours_detection", types_of("contours_detection", (1,)), {"image": "image", "line_thickness": "value"},
              ("image",), ("image", "contours", "hierarchy", "number_contours"), {"line_thickness": 3}, _IMAGE),
    BlockSpec("camera_focus", types_of("camera_focus", (1,)), {"image": "image"}, ("image",),
              ("image", "focus_measure"), aliases=_IMAGE),
    BlockSpec("pixel_color_count", types_of("pixel_color_count", (1,)),
              {"image": "image", "target_color": "value", "tolerance": "value"}, ("image", "target_color"),
              ("matching_pixels_count",), {"tolerance": 10}, _IMAGE),
    BlockSpec("detections_merge", types_of("detections_merge", (1,)),
              {"predictions": "predictions", "class_name": "value"}, ("predictions",), ("predictions",),
              {"class_name": "merged_detection"}),
    BlockSpec("overlap", types_of("overlap", (1,)),
              {"predictions": "predictions", "overlap_type": "value", "overlap_class_name": "value"},
              ("predictions", "overlap_class_name"), ("overlaps",), {"overlap_type": "Center Overlap"}),
    BlockSpec("stitch_ocr_detections", types_of("stitch_ocr_detections", (1,)), _STITCH,
              ("predictions", "reading_direction"), ("ocr_text",), {"tolerance": 10, "delimiter": ""}),
    BlockSpec("stitch_ocr_detections", types_of("stitch_ocr_detections", (2,)),
              {**_STITCH, "stitching_algorithm": "value", "otsu_threshold_multiplier": "value",
               "collimate_tolerance": "value"},
              ("predictions", "reading_direction", "stitching_algorithm"), ("ocr_text",),
              {"tolerance": 10, "delimiter": "", "otsu_threshold_multiplier": 1.0, "collimate_tolerance": 10}),
    BlockSpec("perspective_correction", types_of("perspective_correction", (1,), "PerspectiveCorrection"),
              {"images": "image", "predictions": "predictions", "perspective_polygons": "data",
               "transformed_rect_width": "value", "transformed_rect_height": "value",
               "extend_perspective_polygon_by_detections_anchor": "value", "warp_image": "value"},
              ("images", "perspective_polygons"),
              ("corrected_coordinates", "warped_image", "extended_transformed_rect_width",
               "extended_transformed_rect_height"),
              {"transformed_rect_width": 1000, "transformed_rect_height": 1000,
               "extend_perspective_polygon_by_detections_anchor": "", "warp_image": False}, {"image": "images"}),
    # each image's own row (a batch job runs images one by one)
    BlockSpec("csv_formatter", types_of("csv_formatter", (1,)),
              {"columns_data": "selectors", "columns_operations": "value"}, ("columns_data",), ("csv_content",),
              {"columns_operations": {}}),
    BlockSpec("json_parser", types_of("json_parser", (1,)), {"raw_json": "data", "expected_fields": "value"},
              ("raw_json", "expected_fields"), ("error_status",), outputs_from="expected_fields"),
    # merges branches: a value whose step did not run (continue_if) counts as empty, it does not stop this step
    BlockSpec("first_non_empty_or_default", types_of("first_non_empty_or_default", (1,), "FirstNonEmptyOrDefault"),
              {"data": "predictions_list", "default": "value"}, ("data",), ("output",), {"default": None},
              takes_skipped=True),
]


def check_classical(step: dict[str, Any], block: BlockSpec, where: str) -> None:
    if block.name == "json_parser":
        fields = step["expected_fields"]
        if not isinstance(fields, list) or not all(isinstance(f, str) for f in fields):
            raise WorkflowInvalid(f"{where}: expected_fields must be a list of field names")
        if "error_status" in fields:
            raise WorkflowInvalid(f"{where}: error_status is a reserved field name and cannot be in expected_fields")
    if block.name == "csv_formatter":
        _check_csv(step, where)
    anchor = literal(step, "extend_perspective_polygon_by_detections_anchor", "")
    if block.name == "perspective_correction" and anchor:
        raise BuiltinLacks(f"{where}: extend_perspective_polygon_by_detections_anchor is not built in (the polygon "
                           "is corrected as given; the engine backend extends it)")
    algorithm = literal(step, "stitching_algorithm", "tolerance")
    if block.name == "stitch_ocr_detections" and isinstance(algorithm, str) \
            and algorithm not in ("tolerance", "otsu", "collimate"):
        raise WorkflowInvalid(f"{where}: stitching_algorithm must be tolerance, otsu or collimate, not {algorithm!r}")


def _check_csv(step: dict[str, Any], where: str) -> None:
    columns, operations = step["columns_data"], step.get("columns_operations", {})
    if not isinstance(operations, dict):
        raise WorkflowInvalid(f"{where}: columns_operations must map column names to operations")
    if "timestamp" in columns or "timestamp" in operations:
        raise WorkflowInvalid(f"{where}: timestamp is a reserved column (the time each row is written)")
    for column, chain in operations.items():
        if column not in columns:
            raise WorkflowInvalid(f"{where}: columns_operations names {column!r}, which is not in columns_data")
        uql.check_operations(chain, f"{where} columns_operations.{column}")
