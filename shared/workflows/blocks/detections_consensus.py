"""Roboflow's ``roboflow_core/detections_consensus@v1``."""

from shared.workflows.blockspec import BlockSpec, types_of

SPECS = (
    BlockSpec(
        types=types_of("detections_consensus", (1,), "DetectionsConsensus"),
        params={
            "predictions_batches": "predictions_list",
            "required_votes": "value",
            "class_aware": "value",
            "iou_threshold": "value",
            "confidence": "value",
            "classes_to_consider": "value",
            "required_objects": "value",
            "presence_confidence_aggregation": "value",
            "detections_merge_confidence_aggregation": "value",
            "detections_merge_coordinates_aggregation": "value",
            "detections_merge_mask_aggregation": "value",
        },
        required=("predictions_batches", "required_votes"),
        outputs=("predictions", "object_present", "presence_confidence"),
        defaults={
            "class_aware": True,
            "iou_threshold": 0.3,
            "confidence": 0.0,
            "classes_to_consider": None,
            "required_objects": None,
            "presence_confidence_aggregation": "max",
            "detections_merge_confidence_aggregation": "average",
            "detections_merge_coordinates_aggregation": "average",
            "detections_merge_mask_aggregation": "union",
        },
        aliases={"predictions": "predictions_batches"},
    ),
)
