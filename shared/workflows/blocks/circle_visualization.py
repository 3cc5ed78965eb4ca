"""Roboflow's ``roboflow_core/circle_visualization@v1``."""

from shared.workflows.block_params import visual
from shared.workflows.blockspec import types_of

SPECS = (visual(types_of("circle_visualization", (1,), "CircleVisualization"), {"thickness": 2}),)
