"""Roboflow's ``roboflow_core/overlap_analysis@v1``."""

from shared.workflows.blockspec import BlockSpec, types_of

SPECS = (
    BlockSpec(
        types=types_of("overlap_analysis", (1,), "OverlapAnalysis"),
        params={"reference_predictions": "predictions", "candidate_predictions": "predictions", "min_overlap": "value"},
        required=("reference_predictions", "candidate_predictions"),
        outputs=("overlaps",),
        defaults={"min_overlap": 0.1},
    ),
)
