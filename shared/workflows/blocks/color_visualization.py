"""Roboflow's ``roboflow_core/color_visualization@v1``."""

from shared.workflows.block_params import visual
from shared.workflows.blockspec import types_of

SPECS = (visual(types_of("color_visualization", (1,), "ColorVisualization"), {"opacity": 0.5}),)
