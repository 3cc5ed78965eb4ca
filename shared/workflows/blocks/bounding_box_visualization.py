"""Roboflow's ``roboflow_core/bounding_box_visualization@v1``."""

from shared.workflows.block_params import visual
from shared.workflows.blockspec import types_of

SPECS = (
    visual(
        types_of("bounding_box_visualization", (1,), "BoundingBoxVisualization"), {"thickness": 2, "roundness": 0.0}
    ),
)
