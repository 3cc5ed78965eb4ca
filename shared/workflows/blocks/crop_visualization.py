"""Roboflow's ``roboflow_core/crop_visualization@v1``."""

from shared.workflows.block_params import visual
from shared.workflows.blockspec import types_of

SPECS = (
    visual(
        types_of("crop_visualization", (1,), "CropVisualization"),
        {"position": "TOP_CENTER", "scale_factor": 2.0, "border_thickness": 2},
    ),
)
