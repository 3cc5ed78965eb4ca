"""Roboflow's ``roboflow_core/dot_visualization@v1``."""

from shared.workflows.block_params import visual
from shared.workflows.blockspec import types_of

SPECS = (
    visual(
        types_of("dot_visualization", (1,), "DotVisualization"),
        {"position": "CENTER", "radius": 4, "outline_thickness": 0},
    ),
)
