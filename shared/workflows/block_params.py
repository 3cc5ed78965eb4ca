"""What several blocks' specs share (``shared/workflows/blocks/``): Roboflow's parameter groups with their kinds
and defaults, and the visualisation blocks' builder. A block module names the groups it has; a group changes
only where Roboflow's manifests change it for every block that has it."""

from __future__ import annotations

from typing import Any

from shared.workflows.blockspec import BlockSpec

IMAGES = {"images": "image"}
IMAGE_ALIAS = {"image": "images"}
ACTIVE_LEARNING = {"disable_active_learning": "value", "active_learning_target_dataset": "value"}
# Roboflow's model blocks: the model, its filters and non-maximum suppression
DETECTION = {**IMAGES, "model_id": "value", "class_filter": "value", "iou_threshold": "value",
             "max_detections": "value", "class_agnostic_nms": "value", "max_candidates": "value", **ACTIVE_LEARNING}
DETECTION_DEFAULTS = {"iou_threshold": 0.3, "max_detections": 300, "class_agnostic_nms": False,
                      "max_candidates": 3000}
# later model blocks choose the confidence by mode; Conveyor's models carry no evaluated (F1-optimal) thresholds,
# so "best" and "default" both use the default confidence of the earlier versions, 0.4
CONFIDENCE_MODE = {"confidence_mode": "value", "custom_confidence": "value"}
CONFIDENCE_MODE_DEFAULTS = {"confidence_mode": "best", "custom_confidence": 0.4}
MASKS = {"mask_decode_mode": "value", "tradeoff_factor": "value"}
MASK_DEFAULTS = {"mask_decode_mode": "accurate", "tradeoff_factor": 0.0}
KEYPOINTS = {"keypoint_confidence": "value"}
KEYPOINT_DEFAULTS = {"keypoint_confidence": 0.0}
MODEL_OUTPUTS = ("inference_id", "predictions", "model_id")
SLICER = {"image": "image", "slice_width": "value", "slice_height": "value", "overlap_ratio_width": "value",
          "overlap_ratio_height": "value"}
SLICER_DEFAULTS = {"slice_width": 640, "slice_height": 640, "overlap_ratio_width": 0.2, "overlap_ratio_height": 0.2}
TRACKER = {"detections": "predictions", "track_activation_threshold": "value", "lost_track_buffer": "value",
           "minimum_matching_threshold": "value", "minimum_consecutive_frames": "value"}
TRACKER_DEFAULTS = {"track_activation_threshold": 0.25, "lost_track_buffer": 30, "minimum_matching_threshold": 0.8,
                    "minimum_consecutive_frames": 1}
ZONE = {"detections": "predictions", "zone": "value", "triggering_anchor": "value",
        "remove_out_of_zone_detections": "value", "reset_out_of_zone_detections": "value"}
ZONE_DEFAULTS = {"triggering_anchor": "CENTER", "remove_out_of_zone_detections": True,
                 "reset_out_of_zone_detections": True}
MOTION = {"image": "image", "threshold": "value", "history": "value"}
STITCH_OCR = {"predictions": "predictions", "reading_direction": "value", "tolerance": "value", "delimiter": "value"}

_DRAWN = {"image": "image", "predictions": "predictions", "copy_image": "value"}
# colourable blocks: the colour of a detection is picked from a palette by class, index or track
COLOURS = {**_DRAWN, "color_palette": "value", "palette_size": "value", "custom_colors": "value",
           "color_axis": "value"}
COLOUR_DEFAULTS: dict[str, Any] = {"copy_image": True, "color_palette": "DEFAULT", "palette_size": 10,
                                   "custom_colors": [], "color_axis": "CLASS"}
LABEL_DEFAULTS = {"text": "Class", "text_position": "TOP_LEFT", "text_color": "WHITE", "text_scale": 1.0,
                  "text_thickness": 1, "text_padding": 10, "border_radius": 0}


def visual(types: tuple[str, ...], own: dict[str, Any], *, colours: bool = True, stateful: bool = False) -> BlockSpec:
    """A visualisation block: the image and predictions, the colour parameters (``colours``), and its own
    parameters, each a literal with its default."""
    return BlockSpec(types=types, params={**(COLOURS if colours else _DRAWN), **dict.fromkeys(own, "value")},
                     required=("image", "predictions"), outputs=("image",),
                     defaults={**(COLOUR_DEFAULTS if colours else {"copy_image": True}), **own},
                     aliases={"images": "image"}, stateful=stateful)
