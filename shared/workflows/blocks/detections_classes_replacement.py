"""Roboflow's ``roboflow_core/detections_classes_replacement@v1``."""

from shared.workflows.blockspec import BlockSpec, types_of

SPECS = (
    BlockSpec(
        types=types_of("detections_classes_replacement", (1,), "DetectionsClassesReplacement"),
        params={
            "object_detection_predictions": "predictions",
            "classification_predictions": "collapse",
            "fallback_class_name": "value",
            "fallback_class_id": "value",
        },
        required=("object_detection_predictions", "classification_predictions"),
        outputs=("predictions",),
        defaults={"fallback_class_name": None, "fallback_class_id": None},
        dimension=-1,
    ),
)
