"""Roboflow's ``roboflow_core/halo_visualization@v1``."""

from shared.workflows.block_params import visual
from shared.workflows.blockspec import types_of

SPECS = (visual(types_of("halo_visualization", (1,), "HaloVisualization"), {"opacity": 0.8, "kernel_size": 40}),)
