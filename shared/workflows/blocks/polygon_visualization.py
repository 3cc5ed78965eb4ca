"""Roboflow's ``roboflow_core/polygon_visualization@v1``."""

from shared.workflows.block_params import visual
from shared.workflows.blockspec import types_of

SPECS = (visual(types_of("polygon_visualization", (1,), "PolygonVisualization"), {"thickness": 2}),)
