"""Roboflow's ``roboflow_core/blur_visualization@v1``."""

from shared.workflows.block_params import visual
from shared.workflows.blockspec import types_of

SPECS = (visual(types_of("blur_visualization", (1,), "BlurVisualization"), {"kernel_size": 15}, colours=False),)
