"""Roboflow's ``roboflow_core/bounding_rect@v1``."""

from shared.workflows.blockspec import BlockSpec, types_of

SPECS = (
    BlockSpec(
        types=types_of("bounding_rect", (1,)),
        params={"predictions": "predictions"},
        required=("predictions",),
        outputs=("detections_with_rect",),
    ),
)
