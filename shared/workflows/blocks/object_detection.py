"""Roboflow's ``roboflow_core/roboflow_object_detection_model@v1``,
``roboflow_core/roboflow_object_detection_model@v2``, ``roboflow_core/roboflow_object_detection_model@v3``. v3
chooses the confidence by mode; Conveyor's models carry no evaluated (F1-optimal) thresholds, so "best" and
"default" both use the default confidence of the earlier versions, 0.4."""

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
        types=types_of("roboflow_object_detection_model", (1,), "RoboflowObjectDetectionModel", "ObjectDetectionModel"),
        params={**DETECTION, "confidence": "value"},
        required=("images", "model_id"),
        outputs=("inference_id", "predictions"),
        defaults={**DETECTION_DEFAULTS, "confidence": 0.4},
        aliases=IMAGE_ALIAS,
        resizes_its_image=True,
    ),
    BlockSpec(
        types=types_of("roboflow_object_detection_model", (2,)),
        params={**DETECTION, "confidence": "value"},
        required=("images", "model_id"),
        outputs=MODEL_OUTPUTS,
        defaults={**DETECTION_DEFAULTS, "confidence": 0.4},
        aliases=IMAGE_ALIAS,
        resizes_its_image=True,
    ),
    BlockSpec(
        types=types_of("roboflow_object_detection_model", (3,)),
        params={**DETECTION, **CONFIDENCE_MODE},
        required=("images", "model_id"),
        outputs=MODEL_OUTPUTS,
        defaults={**DETECTION_DEFAULTS, **CONFIDENCE_MODE_DEFAULTS},
        aliases=IMAGE_ALIAS,
        resizes_its_image=True,
    ),
)
