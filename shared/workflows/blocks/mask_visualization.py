"""Roboflow's ``roboflow_core/mask_visualization@v1``."""

from shared.workflows.block_params import visual
from shared.workflows.blockspec import types_of

SPECS = (visual(types_of("mask_visualization", (1,), "MaskVisualization"), {"opacity": 0.5}),)
