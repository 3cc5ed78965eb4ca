"""Roboflow's ``roboflow_core/overlap@v1``."""

from shared.workflows.blockspec import BlockSpec, types_of

SPECS = (
    BlockSpec(
        types=types_of("overlap", (1,)),
        params={"predictions": "predictions", "overlap_type": "value", "overlap_class_name": "value"},
        required=("predictions", "overlap_class_name"),
        outputs=("overlaps",),
        defaults={"overlap_type": "Center Overlap"},
    ),
)
