"""Roboflow's ``roboflow_core/corner_visualization@v1``."""

from shared.workflows.block_params import visual
from shared.workflows.blockspec import types_of

SPECS = (visual(types_of("corner_visualization", (1,), "CornerVisualization"), {"thickness": 4, "corner_length": 15}),)
