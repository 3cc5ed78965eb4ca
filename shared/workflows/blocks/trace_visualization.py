"""Roboflow's ``roboflow_core/trace_visualization@v1``. Draws each track's path over the frames before: state per
video."""

from shared.workflows.block_params import visual
from shared.workflows.blockspec import types_of

SPECS = (
    visual(
        types_of("trace_visualization", (1,)), {"position": "CENTER", "trace_length": 30, "thickness": 1}, stateful=True
    ),
)
