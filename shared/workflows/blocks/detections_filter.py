"""Roboflow's ``roboflow_core/detections_filter@v1``."""

from shared.workflows.blockspec import BlockSpec, types_of

SPECS = (
    BlockSpec(
        types=types_of("detections_filter", (1,), "DetectionsFilter"),
        params={"predictions": "predictions", "operations": "value", "operations_parameters": "selectors"},
        required=("predictions", "operations"),
        outputs=("predictions",),
        defaults={"operations_parameters": {}},
    ),
)
