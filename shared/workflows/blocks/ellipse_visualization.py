"""Roboflow's ``roboflow_core/ellipse_visualization@v1``."""

from shared.workflows.block_params import visual
from shared.workflows.blockspec import types_of

SPECS = (
    visual(
        types_of("ellipse_visualization", (1,), "EllipseVisualization"),
        {"thickness": 2, "start_angle": -45, "end_angle": 235},
    ),
)
