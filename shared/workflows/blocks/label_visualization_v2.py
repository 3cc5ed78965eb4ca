"""Roboflow's ``roboflow_core/label_visualization@v2``. v2 can size the text to the image
(text_size_mode "Automatic")."""

from shared.workflows.block_params import LABEL_DEFAULTS, visual
from shared.workflows.blockspec import types_of

SPECS = (visual(types_of("label_visualization", (2,)), {**LABEL_DEFAULTS, "text_size_mode": "Manual"}),)
