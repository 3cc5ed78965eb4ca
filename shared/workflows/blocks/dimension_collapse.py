"""Roboflow's ``roboflow_core/dimension_collapse@v1``."""

from shared.workflows.blockspec import BlockSpec, types_of

SPECS = (
    BlockSpec(
        types=types_of("dimension_collapse", (1,), "DimensionCollapse"),
        params={"data": "collapse"},
        required=("data",),
        outputs=("output",),
        dimension=-1,
    ),
)
