"""Roboflow's ``roboflow_core/background_color_visualization@v1``."""

from shared.workflows.block_params import visual
from shared.workflows.blockspec import types_of

SPECS = (
    visual(
        types_of("background_color_visualization", (1,), "BackgroundColorVisualization"),
        {"color": "BLACK", "opacity": 0.5},
        colours=False,
    ),
)
