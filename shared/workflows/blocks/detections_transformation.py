"""Roboflow's ``roboflow_core/detections_transformation@v1``."""

from shared.workflows.blockspec import BlockSpec, types_of

SPECS = (
    BlockSpec(
        types=types_of("detections_transformation", (1,), "DetectionsTransformation"),
        params={"predictions": "predictions", "operations": "value", "operations_parameters": "selectors"},
        required=("predictions", "operations"),
        outputs=("predictions",),
        defaults={"operations_parameters": {}},
    ),
)
