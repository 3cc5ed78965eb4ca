"""Roboflow's ``roboflow_core/roboflow_keypoint_detection_model@v1``,
``roboflow_core/roboflow_keypoint_detection_model@v2``, ``roboflow_core/roboflow_keypoint_detection_model@v3``. v3
chooses the confidence by mode, as the object detection block's v3."""

from shared.workflows.block_params import (
    CONFIDENCE_MODE,
    CONFIDENCE_MODE_DEFAULTS,
    DETECTION,
    DETECTION_DEFAULTS,
    IMAGE_ALIAS,
    MODEL_OUTPUTS,
)
from shared.workflows.blockspec import BlockSpec, types_of

SPECS = (
    BlockSpec(
        types=types_of(
            "roboflow_keypoint_detection_model", (1,), "RoboflowKeypointDetectionModel", "KeypointsDetectionModel"
        ),
        params={**DETECTION, "keypoint_confidence": "value", "confidence": "value"},
        required=("images", "model_id"),
        outputs=("inference_id", "predictions"),
        defaults={**DETECTION_DEFAULTS, "keypoint_confidence": 0.0, "confidence": 0.4},
        aliases=IMAGE_ALIAS,
        resizes_its_image=True,
    ),
    BlockSpec(
        types=types_of("roboflow_keypoint_detection_model", (2,)),
        params={**DETECTION, "keypoint_confidence": "value", "confidence": "value"},
        required=("images", "model_id"),
        outputs=MODEL_OUTPUTS,
        defaults={**DETECTION_DEFAULTS, "keypoint_confidence": 0.0, "confidence": 0.4},
        aliases=IMAGE_ALIAS,
        resizes_its_image=True,
    ),
    BlockSpec(
        types=types_of("roboflow_keypoint_detection_model", (3,)),
        params={**DETECTION, "keypoint_confidence": "value", **CONFIDENCE_MODE},
        required=("images", "model_id"),
        outputs=MODEL_OUTPUTS,
        defaults={**DETECTION_DEFAULTS, "keypoint_confidence": 0.0, **CONFIDENCE_MODE_DEFAULTS},
        aliases=IMAGE_ALIAS,
        resizes_its_image=True,
    ),
)
