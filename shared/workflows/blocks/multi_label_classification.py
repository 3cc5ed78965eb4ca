"""Roboflow's ``roboflow_core/roboflow_multi_label_classification_model@v1``,
``roboflow_core/roboflow_multi_label_classification_model@v2``,
``roboflow_core/roboflow_multi_label_classification_model@v3``. v3 chooses the confidence by mode, as the object
detection block's v3."""

from shared.workflows.blockspec import BlockSpec, types_of

SPECS = (
    BlockSpec(
        types=types_of(
            "roboflow_multi_label_classification_model",
            (1,),
            "RoboflowMultiLabelClassificationModel",
            "MultiLabelClassificationModel",
        ),
        params={
            "images": "image",
            "model_id": "value",
            "confidence": "value",
            "disable_active_learning": "value",
            "active_learning_target_dataset": "value",
        },
        required=("images", "model_id"),
        outputs=("predictions", "inference_id"),
        defaults={"confidence": 0.4},
        resizes_its_image=True,
        aliases={"image": "images"},
    ),
    BlockSpec(
        types=types_of("roboflow_multi_label_classification_model", (2,)),
        params={
            "images": "image",
            "model_id": "value",
            "confidence": "value",
            "disable_active_learning": "value",
            "active_learning_target_dataset": "value",
        },
        required=("images", "model_id"),
        outputs=("predictions", "inference_id", "model_id"),
        defaults={"confidence": 0.4},
        resizes_its_image=True,
        aliases={"image": "images"},
    ),
    BlockSpec(
        types=types_of("roboflow_multi_label_classification_model", (3,)),
        params={
            "images": "image",
            "model_id": "value",
            "confidence_mode": "value",
            "custom_confidence": "value",
            "disable_active_learning": "value",
            "active_learning_target_dataset": "value",
        },
        required=("images", "model_id"),
        outputs=("predictions", "inference_id", "model_id"),
        defaults={"confidence_mode": "best", "custom_confidence": 0.4},
        resizes_its_image=True,
        aliases={"image": "images"},
    ),
)
