"""Roboflow's ``roboflow_core/detections_stitch@v1``."""

from shared.workflows.blockspec import BlockSpec, types_of

SPECS = (
    BlockSpec(
        types=types_of("detections_stitch", (1,)),
        params={
            "reference_image": "image",
            "predictions": "collapse",
            "overlap_filtering_strategy": "value",
            "iou_threshold": "value",
        },
        required=("reference_image", "predictions"),
        outputs=("predictions",),
        defaults={"overlap_filtering_strategy": "nms", "iou_threshold": 0.3},
        dimension=-1,
    ),
)
