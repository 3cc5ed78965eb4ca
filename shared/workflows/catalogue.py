"""The catalogue of the built-in executor's Roboflow Workflow blocks: for every block, the type names it answers
to (every version and alias Roboflow accepts), its parameters with their kinds and aliases, what it requires and
what it outputs — Roboflow's manifests, so that definitions saved in Roboflow's editor compile unchanged.

This is what a definition is compiled against (by the scheduler when a job or workflow is saved, and by the
worker before it runs one); the run functions live with the worker (``worker_svc.workflows.blocks``), keyed by
the block's ``name``, and a unit test checks that both sides list the same blocks.

Parameter kinds:
  ``image``        an image (the input image, a crop)
  ``predictions``  a model's or a transformation's output
  ``data``         any value taken from inputs or steps
  ``value``        a literal or a parameter (``$inputs.x``)
  ``selectors``    an object whose values are selectors (``evaluation_parameters``, ``data``)
  ``predictions_list``  a list of selectors (several models' outputs, or any values)
  ``steps``        a list of step selectors (``$steps.name``), flow control only
  ``collapse``     a value of a nested dimension (one per crop) that the block takes whole
  ``metadata``     a ``WorkflowVideoMetadata`` input: the frame's video, number and time (video blocks)
A step fed a value of a nested dimension (one per crop) through an ``image``/``predictions``/``data``/``selectors``
parameter runs once per element; ``dimension`` says how the block changes the dimension of its outputs.
"""

from __future__ import annotations

from typing import Any

from shared.workflows import uql
from shared.workflows.blockspec import BlockSpec
from shared.workflows.blockspec import types_of as _types
from shared.workflows.classical_blocks import CLASSICAL_BLOCKS, check_classical
from shared.workflows.errors import WorkflowInvalid
from shared.workflows.fusion_blocks import FUSION_BLOCKS, check_fusion
from shared.workflows.video_blocks import VIDEO_BLOCKS
from shared.workflows.visual_blocks import VISUAL_BLOCKS

_IMAGES = {"images": "image"}
_IMAGE_ALIAS = {"image": "images"}
_AL = {"disable_active_learning": "value", "active_learning_target_dataset": "value"}
_DETECTION_PARAMS = {**_IMAGES, "model_id": "value", "class_filter": "value", "iou_threshold": "value",
                     "max_detections": "value", "class_agnostic_nms": "value", "max_candidates": "value", **_AL}
_DETECTION_DEFAULTS = {"iou_threshold": 0.3, "max_detections": 300, "class_agnostic_nms": False,
                       "max_candidates": 3000}
# v3 model blocks choose the confidence by mode; Conveyor's models carry no evaluated (F1-optimal) thresholds,
# so "best" and "default" both use the default confidence of the earlier versions, 0.4
_CONFIDENCE_MODE = {"confidence_mode": "value", "custom_confidence": "value"}
_MASKS = {"mask_decode_mode": "value", "tradeoff_factor": "value"}
_MASK_DEFAULTS = {"mask_decode_mode": "accurate", "tradeoff_factor": 0.0}
_KEYPOINTS = {"keypoint_confidence": "value"}
_KEYPOINT_DEFAULTS = {"keypoint_confidence": 0.0}
_OCR_OUTPUTS = ("result", "predictions", "parent_id", "root_parent_id", "prediction_type")
_CONFIDENCE_MODE_DEFAULTS = {"confidence_mode": "best", "custom_confidence": 0.4}
_SLICER = {"image": "image", "slice_width": "value", "slice_height": "value", "overlap_ratio_width": "value",
           "overlap_ratio_height": "value"}
_SLICER_DEFAULTS = {"slice_width": 640, "slice_height": 640, "overlap_ratio_width": 0.2, "overlap_ratio_height": 0.2}

CATALOGUE: list[BlockSpec] = [
    BlockSpec("object_detection", _types("roboflow_object_detection_model", (1,), "RoboflowObjectDetectionModel",
                                         "ObjectDetectionModel"),
              {**_DETECTION_PARAMS, "confidence": "value"}, ("images", "model_id"), ("inference_id", "predictions"),
              {**_DETECTION_DEFAULTS, "confidence": 0.4}, _IMAGE_ALIAS),
    BlockSpec("object_detection", _types("roboflow_object_detection_model", (2,)),
              {**_DETECTION_PARAMS, "confidence": "value"}, ("images", "model_id"),
              ("inference_id", "predictions", "model_id"), {**_DETECTION_DEFAULTS, "confidence": 0.4}, _IMAGE_ALIAS),
    BlockSpec("object_detection", _types("roboflow_object_detection_model", (3,)),
              {**_DETECTION_PARAMS, **_CONFIDENCE_MODE}, ("images", "model_id"),
              ("inference_id", "predictions", "model_id"), {**_DETECTION_DEFAULTS, **_CONFIDENCE_MODE_DEFAULTS},
              _IMAGE_ALIAS),
    BlockSpec("instance_segmentation", _types("roboflow_instance_segmentation_model", (1,),
                                              "RoboflowInstanceSegmentationModel", "InstanceSegmentationModel"),
              {**_DETECTION_PARAMS, **_MASKS, "confidence": "value"}, ("images", "model_id"),
              ("inference_id", "predictions"), {**_DETECTION_DEFAULTS, **_MASK_DEFAULTS, "confidence": 0.4},
              _IMAGE_ALIAS),
    BlockSpec("instance_segmentation", _types("roboflow_instance_segmentation_model", (2,)),
              {**_DETECTION_PARAMS, **_MASKS, "confidence": "value"}, ("images", "model_id"),
              ("inference_id", "predictions", "model_id"),
              {**_DETECTION_DEFAULTS, **_MASK_DEFAULTS, "confidence": 0.4}, _IMAGE_ALIAS),
    BlockSpec("instance_segmentation", _types("roboflow_instance_segmentation_model", (3, 4)),
              {**_DETECTION_PARAMS, **_MASKS, **_CONFIDENCE_MODE}, ("images", "model_id"),
              ("inference_id", "predictions", "model_id"),
              {**_DETECTION_DEFAULTS, **_MASK_DEFAULTS, **_CONFIDENCE_MODE_DEFAULTS}, _IMAGE_ALIAS),
    BlockSpec("keypoint_detection", _types("roboflow_keypoint_detection_model", (1,),
                                           "RoboflowKeypointDetectionModel", "KeypointsDetectionModel"),
              {**_DETECTION_PARAMS, **_KEYPOINTS, "confidence": "value"}, ("images", "model_id"),
              ("inference_id", "predictions"), {**_DETECTION_DEFAULTS, **_KEYPOINT_DEFAULTS, "confidence": 0.4},
              _IMAGE_ALIAS),
    BlockSpec("keypoint_detection", _types("roboflow_keypoint_detection_model", (2,)),
              {**_DETECTION_PARAMS, **_KEYPOINTS, "confidence": "value"}, ("images", "model_id"),
              ("inference_id", "predictions", "model_id"),
              {**_DETECTION_DEFAULTS, **_KEYPOINT_DEFAULTS, "confidence": 0.4}, _IMAGE_ALIAS),
    BlockSpec("keypoint_detection", _types("roboflow_keypoint_detection_model", (3,)),
              {**_DETECTION_PARAMS, **_KEYPOINTS, **_CONFIDENCE_MODE}, ("images", "model_id"),
              ("inference_id", "predictions", "model_id"),
              {**_DETECTION_DEFAULTS, **_KEYPOINT_DEFAULTS, **_CONFIDENCE_MODE_DEFAULTS}, _IMAGE_ALIAS),
    BlockSpec("classification", _types("roboflow_classification_model", (1,), "RoboflowClassificationModel",
                                       "ClassificationModel"),
              {**_IMAGES, "model_id": "value", "confidence": "value", **_AL}, ("images", "model_id"),
              ("predictions", "inference_id"), {"confidence": 0.4}, _IMAGE_ALIAS),
    BlockSpec("classification", _types("roboflow_classification_model", (2,)),
              {**_IMAGES, "model_id": "value", "confidence": "value", **_AL}, ("images", "model_id"),
              ("predictions", "inference_id", "model_id"), {"confidence": 0.4}, _IMAGE_ALIAS),
    BlockSpec("classification", _types("roboflow_classification_model", (3,)),
              {**_IMAGES, "model_id": "value", **_CONFIDENCE_MODE, **_AL}, ("images", "model_id"),
              ("predictions", "inference_id", "model_id"), _CONFIDENCE_MODE_DEFAULTS, _IMAGE_ALIAS),
    BlockSpec("multi_label_classification",
              _types("roboflow_multi_label_classification_model", (1,), "RoboflowMultiLabelClassificationModel",
                     "MultiLabelClassificationModel"),
              {**_IMAGES, "model_id": "value", "confidence": "value", **_AL}, ("images", "model_id"),
              ("predictions", "inference_id"), {"confidence": 0.4}, _IMAGE_ALIAS),
    BlockSpec("multi_label_classification", _types("roboflow_multi_label_classification_model", (2,)),
              {**_IMAGES, "model_id": "value", "confidence": "value", **_AL}, ("images", "model_id"),
              ("predictions", "inference_id", "model_id"), {"confidence": 0.4}, _IMAGE_ALIAS),
    BlockSpec("multi_label_classification", _types("roboflow_multi_label_classification_model", (3,)),
              {**_IMAGES, "model_id": "value", **_CONFIDENCE_MODE, **_AL}, ("images", "model_id"),
              ("predictions", "inference_id", "model_id"), _CONFIDENCE_MODE_DEFAULTS, _IMAGE_ALIAS),
    # OCR: Roboflow's runs DocTR (ocr_model) or PaddleOCR (pp_ocr); Conveyor reads with PP-OCRv4 for both
    BlockSpec("ocr", _types("ocr_model", (1,), "OCRModel"), _IMAGES, ("images",), _OCR_OUTPUTS,
              aliases=_IMAGE_ALIAS),
    BlockSpec("ocr", _types("pp_ocr", (1,)), {**_IMAGES, "text_detection": "value", "text_recognition": "value"},
              ("images",), _OCR_OUTPUTS, {"text_detection": "small", "text_recognition": "small"}, _IMAGE_ALIAS),
    BlockSpec("detections_filter", _types("detections_filter", (1,), "DetectionsFilter"),
              {"predictions": "predictions", "operations": "value", "operations_parameters": "selectors"},
              ("predictions", "operations"), ("predictions",), {"operations_parameters": {}}),
    BlockSpec("detections_transformation", _types("detections_transformation", (1,), "DetectionsTransformation"),
              {"predictions": "predictions", "operations": "value", "operations_parameters": "selectors"},
              ("predictions", "operations"), ("predictions",), {"operations_parameters": {}}),
    BlockSpec("dynamic_crop", _types("dynamic_crop", (1,), "DynamicCrop", "Crop"),
              {**_IMAGES, "predictions": "predictions", "mask_opacity": "value", "background_color": "value"},
              ("images", "predictions"), ("crops", "predictions"), {"mask_opacity": 0.0, "background_color": [0, 0, 0]},
              aliases={**_IMAGE_ALIAS, "detections": "predictions"}, dimension=1),
    BlockSpec("detection_offset", _types("detection_offset", (1,), "DetectionOffset"),
              {"predictions": "predictions", "offset_width": "value", "offset_height": "value", "units": "value"},
              ("predictions", "offset_width", "offset_height"), ("predictions",), {"units": "Pixels"},
              {"offset_x": "offset_width", "offset_y": "offset_height"}),
    BlockSpec("absolute_static_crop", _types("absolute_static_crop", (1,), "AbsoluteStaticCrop"),
              {**_IMAGES, "x_center": "value", "y_center": "value", "width": "value", "height": "value"},
              ("images", "x_center", "y_center", "width", "height"), ("crops",), aliases=_IMAGE_ALIAS),
    # Roboflow's type name carries its typo
    BlockSpec("relative_static_crop", ("roboflow_core/relative_statoic_crop@v1", "RelativeStaticCrop"),
              {**_IMAGES, "x_center": "value", "y_center": "value", "width": "value", "height": "value"},
              ("images", "x_center", "y_center", "width", "height"), ("crops",), aliases=_IMAGE_ALIAS),
    BlockSpec("detections_classes_replacement",
              _types("detections_classes_replacement", (1,), "DetectionsClassesReplacement"),
              {"object_detection_predictions": "predictions", "classification_predictions": "collapse",
               "fallback_class_name": "value", "fallback_class_id": "value"},
              ("object_detection_predictions", "classification_predictions"), ("predictions",),
              {"fallback_class_name": None, "fallback_class_id": None}, dimension=-1),
    BlockSpec("image_preprocessing", _types("image_preprocessing", (1,)),
              {"image": "image", "task_type": "value", "width": "value", "height": "value",
               "rotation_degrees": "value", "flip_type": "value"},
              ("image", "task_type"), ("image",),
              {"width": 640, "height": 640, "rotation_degrees": 90, "flip_type": "vertical"}, {"images": "image"}),
    BlockSpec("convert_grayscale", _types("convert_grayscale", (1,)), {"image": "image"}, ("image",), ("image",),
              aliases={"images": "image"}),
    BlockSpec("dominant_color", _types("dominant_color", (1,)),
              {"image": "image", "color_clusters": "value", "max_iterations": "value", "target_size": "value"},
              ("image",), ("rgb_color",), {"color_clusters": 4, "max_iterations": 100, "target_size": 100},
              {"images": "image"}),
    BlockSpec("image_slicer", _types("image_slicer", (1,)), _SLICER, ("image",), ("slices",), _SLICER_DEFAULTS,
              {"images": "image"}, dimension=1),
    BlockSpec("image_slicer_v2", _types("image_slicer", (2,)), _SLICER, ("image",), ("slices",), _SLICER_DEFAULTS,
              {"images": "image"}, dimension=1),
    BlockSpec("detections_stitch", _types("detections_stitch", (1,)),
              {"reference_image": "image", "predictions": "collapse", "overlap_filtering_strategy": "value",
               "iou_threshold": "value"},
              ("reference_image", "predictions"), ("predictions",),
              {"overlap_filtering_strategy": "nms", "iou_threshold": 0.3}, dimension=-1),
    BlockSpec("detections_consensus", _types("detections_consensus", (1,), "DetectionsConsensus"),
              {"predictions_batches": "predictions_list", "required_votes": "value", "class_aware": "value",
               "iou_threshold": "value", "confidence": "value", "classes_to_consider": "value",
               "required_objects": "value", "presence_confidence_aggregation": "value",
               "detections_merge_confidence_aggregation": "value", "detections_merge_coordinates_aggregation": "value",
               "detections_merge_mask_aggregation": "value"},
              ("predictions_batches", "required_votes"), ("predictions", "object_present", "presence_confidence"),
              {"class_aware": True, "iou_threshold": 0.3, "confidence": 0.0, "classes_to_consider": None,
               "required_objects": None, "presence_confidence_aggregation": "max",
               "detections_merge_confidence_aggregation": "average",
               "detections_merge_coordinates_aggregation": "average", "detections_merge_mask_aggregation": "union"},
              {"predictions": "predictions_batches"}),
    BlockSpec("property_definition", _types("property_definition", (1,), "PropertyDefinition",
                                            "PropertyExtraction"),
              {"data": "data", "operations": "value"}, ("data", "operations"), ("output",)),
    BlockSpec("expression", _types("expression", (1,), "Expression"),
              {"data": "selectors", "data_operations": "value", "switch": "value"}, ("data", "switch"), ("output",),
              {"data_operations": {}}),
    BlockSpec("dimension_collapse", _types("dimension_collapse", (1,), "DimensionCollapse"),
              {"data": "collapse"}, ("data",), ("output",), dimension=-1),
    BlockSpec("continue_if", _types("continue_if", (1,), "ContinueIf"),
              {"condition_statement": "value", "evaluation_parameters": "selectors", "next_steps": "steps",
               "stop_delay": "value"},
              ("condition_statement", "next_steps"), (), {"evaluation_parameters": {}, "stop_delay": 0},
              flow_control=True, stateful_when="stop_delay"),
]

CATALOGUE += VIDEO_BLOCKS + VISUAL_BLOCKS + CLASSICAL_BLOCKS + FUSION_BLOCKS

BY_TYPE: dict[str, BlockSpec] = {t: b for b in CATALOGUE for t in b.types}


def canonical_params(step: dict[str, Any], block: BlockSpec) -> dict[str, Any]:
    """The step with Roboflow's parameter aliases (``image`` for ``images``, ...) under their parameter's name."""
    out = dict(step)
    for alias, name in block.aliases.items():
        if alias in out:
            value = out.pop(alias)
            out.setdefault(name, value)
    return out


def check_block_params(step: dict[str, Any], block: BlockSpec) -> None:
    """Static checks of a step's literal parameters (aliases already resolved)."""
    name = step.get("name")
    where = f"step {name!r} ({step['type']})"
    for required in block.required:
        if required not in step:
            also = [a for a, n in block.aliases.items() if n == required]
            raise WorkflowInvalid(f"{where} is missing {required!r}" + (f" (or {also[0]!r})" if also else ""))
    for key, kind in block.params.items():
        if kind == "selectors" and key in step and not isinstance(step[key], dict):
            raise WorkflowInvalid(f"{where}: {key!r} must be an object of selectors")
        if kind == "predictions_list" and key in step and (not isinstance(step[key], list) or not step[key]):
            raise WorkflowInvalid(f"{where}: {key!r} must be a non-empty list of selectors")
    if isinstance(step.get("operations"), list | dict):
        uql.check_operations(step["operations"], where)
    if "confidence_mode" in step and step["confidence_mode"] not in ("best", "default", "custom") \
            and not str(step["confidence_mode"]).startswith("$"):
        raise WorkflowInvalid(f"{where}: confidence_mode must be 'best', 'default' or 'custom'")
    if block.name == "continue_if":
        uql.check_statement(step["condition_statement"], where)
        if not isinstance(step["next_steps"], list):
            raise WorkflowInvalid(f"{where}: next_steps must be a list of step selectors")
        delay = step.get("stop_delay", 0)
        if isinstance(delay, int | float) and delay < 0:
            raise WorkflowInvalid(f"{where}: stop_delay must not be negative")
    if block.name == "expression":
        _check_expression(step, where)
    check_classical(step, block, where)
    check_fusion(step, block, where)


def _check_expression(step: dict[str, Any], where: str) -> None:
    operations = step.get("data_operations") or {}
    if not isinstance(operations, dict):
        raise WorkflowInvalid(f"{where}: data_operations must map data names to operations")
    for variable, chain in operations.items():
        if variable not in step["data"]:
            raise WorkflowInvalid(f"{where}: data_operations names {variable!r}, which is not in data")
        uql.check_operations(chain, f"{where} data_operations.{variable}")
    switch = step["switch"]
    if not isinstance(switch, dict) or not isinstance(switch.get("cases"), list) or "default" not in switch:
        raise WorkflowInvalid(f"{where}: switch must be a CasesDefinition with 'cases' and a 'default'")
    for case in switch["cases"]:
        if not isinstance(case, dict) or "condition" not in case or "result" not in case:
            raise WorkflowInvalid(f"{where}: every case needs a condition and a result")
        uql.check_statement(case["condition"], f"{where} case")
        _check_result(case["result"], step["data"], where)
    _check_result(switch["default"], step["data"], where)


def _check_result(result: Any, data: dict[str, Any], where: str) -> None:
    kind = result.get("type") if isinstance(result, dict) else None
    if kind == "StaticCaseResult":
        if "value" not in result:
            raise WorkflowInvalid(f"{where}: a StaticCaseResult needs a 'value'")
    elif kind == "DynamicCaseResult":
        if result.get("parameter_name") not in data:
            raise WorkflowInvalid(f"{where}: a DynamicCaseResult names {result.get('parameter_name')!r}, which is "
                                  "not in data")
        uql.check_operations(result.get("operations", []), where)
    else:
        raise WorkflowInvalid(f"{where}: a case result must be a StaticCaseResult or a DynamicCaseResult")
