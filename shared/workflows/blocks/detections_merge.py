"""Roboflow's ``roboflow_core/detections_merge@v1``."""

from shared.workflows.blockspec import BlockSpec, types_of

SPECS = (
    BlockSpec(
        types=types_of("detections_merge", (1,)),
        params={"predictions": "predictions", "class_name": "value"},
        required=("predictions",),
        outputs=("predictions",),
        defaults={"class_name": "merged_detection"},
    ),
)
