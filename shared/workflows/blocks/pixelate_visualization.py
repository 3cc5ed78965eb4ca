"""Roboflow's ``roboflow_core/pixelate_visualization@v1``."""

from shared.workflows.block_params import visual
from shared.workflows.blockspec import types_of

SPECS = (visual(types_of("pixelate_visualization", (1,), "PixelateVisualization"), {"pixel_size": 20}, colours=False),)
