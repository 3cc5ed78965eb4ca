"""Roboflow's ``roboflow_core/label_visualization@v1``."""

from shared.workflows.block_params import LABEL_DEFAULTS, visual
from shared.workflows.blockspec import types_of

SPECS = (visual(types_of("label_visualization", (1,), "LabelVisualization"), LABEL_DEFAULTS),)
