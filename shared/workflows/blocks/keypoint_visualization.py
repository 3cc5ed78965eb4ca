"""Roboflow's ``roboflow_core/keypoint_visualization@v1``."""

from shared.workflows.block_params import visual
from shared.workflows.blockspec import types_of

SPECS = (
    visual(
        types_of("keypoint_visualization", (1,), "KeypointVisualization"),
        {
            "annotator_type": "edge",
            "color": "#A351FB",
            "text_color": "black",
            "text_scale": 0.5,
            "text_thickness": 1,
            "text_padding": 10,
            "thickness": 2,
            "radius": 10,
            "edges": None,
        },
        colours=False,
    ),
)
