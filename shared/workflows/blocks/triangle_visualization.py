"""Roboflow's ``roboflow_core/triangle_visualization@v1``."""

from shared.workflows.block_params import visual
from shared.workflows.blockspec import types_of

SPECS = (
    visual(
        types_of("triangle_visualization", (1,), "TriangleVisualization"),
        {"position": "TOP_CENTER", "base": 10, "height": 10, "outline_thickness": 0},
    ),
)
