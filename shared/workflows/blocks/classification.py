"""Roboflow's ``roboflow_core/roboflow_classification_model@v1``, ``roboflow_core/roboflow_classification_model@v2``,
``roboflow_core/roboflow_classification_model@v3``. v3 chooses the confidence by mode, as the object detection
block's v3."""

from shared.workflows.block_params import ACTIVE_LEARNING, CONFIDENCE_MODE, CONFIDENCE_MODE_DEFAULTS, IMAGE_ALIAS
from shared.workflows.blockspec import BlockSpec, types_of

SPECS = (
    BlockSpec(
        types=types_of("roboflow_classification_model", (1,), "RoboflowClassificationModel", "ClassificationModel"),
        params={"images": "image", "model_id": "value", "confidence": "value", **ACTIVE_LEARNING},
        required=("images", "model_id"),
        outputs=("predictions", "inference_id"),
        defaults={"confidence": 0.4},
        aliases=IMAGE_ALIAS,
        resizes_its_image=True,
    ),
    BlockSpec(
        types=types_of("roboflow_classification_model", (2,)),
        params={"images": "image", "model_id": "value", "confidence": "value", **ACTIVE_LEARNING},
        required=("images", "model_id"),
        outputs=("predictions", "inference_id", "model_id"),
        defaults={"confidence": 0.4},
        aliases=IMAGE_ALIAS,
        resizes_its_image=True,
    ),
    BlockSpec(
        types=types_of("roboflow_classification_model", (3,)),
        params={"images": "image", "model_id": "value", **CONFIDENCE_MODE, **ACTIVE_LEARNING},
        required=("images", "model_id"),
        outputs=("predictions", "inference_id", "model_id"),
        defaults=CONFIDENCE_MODE_DEFAULTS,
        aliases=IMAGE_ALIAS,
        resizes_its_image=True,
    ),
)
