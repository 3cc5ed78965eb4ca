"""Roboflow's ``roboflow_core/roboflow_object_detection_model@v1``,
``roboflow_core/roboflow_object_detection_model@v2``, ``roboflow_core/roboflow_object_detection_model@v3``. v3
chooses the confidence by mode; Conveyor's models carry no evaluated (F1-optimal) thresholds, so "best" and
"default" both use the default confidence of the earlier versions, 0.4."""

from shared.workflows.blockspec import BlockSpec, types_of

SPECS = (
    BlockSpec(
        types=types_of("roboflow_object_detection_model", (1,), "RoboflowObjectDetectionModel", "ObjectDetectionModel"),
        params={
            "images": "image",
            "model_id": "value",
            "class_filter": "value",
            "iou_threshold": "value",
            "max_detections": "value",
            "class_agnostic_nms": "value",
            "max_candidates": "value",
            "disable_active_learning": "value",
            "active_learning_target_dataset": "value",
            "confidence": "value",
        },
        required=("images", "model_id"),
        outputs=("inference_id", "predictions"),
        defaults={
            "iou_threshold": 0.3,
            "max_detections": 300,
            "class_agnostic_nms": False,
            "max_candidates": 3000,
            "confidence": 0.4,
        },
        resizes_its_image=True,
        aliases={"image": "images"},
    ),
    BlockSpec(
        types=types_of("roboflow_object_detection_model", (2,)),
        params={
            "images": "image",
            "model_id": "value",
            "class_filter": "value",
            "iou_threshold": "value",
            "max_detections": "value",
            "class_agnostic_nms": "value",
            "max_candidates": "value",
            "disable_active_learning": "value",
            "active_learning_target_dataset": "value",
            "confidence": "value",
        },
        required=("images", "model_id"),
        outputs=("inference_id", "predictions", "model_id"),
        defaults={
            "iou_threshold": 0.3,
            "max_detections": 300,
            "class_agnostic_nms": False,
            "max_candidates": 3000,
            "confidence": 0.4,
        },
        resizes_its_image=True,
        aliases={"image": "images"},
    ),
    BlockSpec(
        types=types_of("roboflow_object_detection_model", (3,)),
        params={
            "images": "image",
            "model_id": "value",
            "class_filter": "value",
            "iou_threshold": "value",
            "max_detections": "value",
            "class_agnostic_nms": "value",
            "max_candidates": "value",
            "disable_active_learning": "value",
            "active_learning_target_dataset": "value",
            "confidence_mode": "value",
            "custom_confidence": "value",
        },
        required=("images", "model_id"),
        outputs=("inference_id", "predictions", "model_id"),
        defaults={
            "iou_threshold": 0.3,
            "max_detections": 300,
            "class_agnostic_nms": False,
            "max_candidates": 3000,
            "confidence_mode": "best",
            "custom_confidence": 0.4,
        },
        resizes_its_image=True,
        aliases={"image": "images"},
    ),
)
