"""Roboflow's ``roboflow_core/roboflow_instance_segmentation_model@v1``,
``roboflow_core/roboflow_instance_segmentation_model@v2``,
``roboflow_core/roboflow_instance_segmentation_model@v3``,
``roboflow_core/roboflow_instance_segmentation_model@v4``. v3 and v4 choose the confidence by mode, as the object
detection block's v3."""

from shared.workflows.block_params import (
    CONFIDENCE_MODE,
    CONFIDENCE_MODE_DEFAULTS,
    DETECTION,
    DETECTION_DEFAULTS,
    IMAGE_ALIAS,
    MASK_DEFAULTS,
    MASKS,
    MODEL_OUTPUTS,
)
from shared.workflows.blockspec import BlockSpec, types_of

SPECS = (
    BlockSpec(
        types=types_of(
            "roboflow_instance_segmentation_model",
            (1,),
            "RoboflowInstanceSegmentationModel",
            "InstanceSegmentationModel",
        ),
        params={**DETECTION, **MASKS, "confidence": "value"},
        required=("images", "model_id"),
        outputs=("inference_id", "predictions"),
        defaults={**DETECTION_DEFAULTS, **MASK_DEFAULTS, "confidence": 0.4},
        aliases=IMAGE_ALIAS,
    ),
    BlockSpec(
        types=types_of("roboflow_instance_segmentation_model", (2,)),
        params={**DETECTION, **MASKS, "confidence": "value"},
        required=("images", "model_id"),
        outputs=MODEL_OUTPUTS,
        defaults={**DETECTION_DEFAULTS, **MASK_DEFAULTS, "confidence": 0.4},
        aliases=IMAGE_ALIAS,
    ),
    BlockSpec(
        types=types_of("roboflow_instance_segmentation_model", (3, 4)),
        params={**DETECTION, **MASKS, **CONFIDENCE_MODE},
        required=("images", "model_id"),
        outputs=MODEL_OUTPUTS,
        defaults={**DETECTION_DEFAULTS, **MASK_DEFAULTS, **CONFIDENCE_MODE_DEFAULTS},
        aliases=IMAGE_ALIAS,
    ),
)
