"""Roboflow's ``roboflow_core/absolute_static_crop@v1``."""

from shared.workflows.block_params import IMAGE_ALIAS
from shared.workflows.blockspec import BlockSpec, types_of

SPECS = (
    BlockSpec(
        types=types_of("absolute_static_crop", (1,), "AbsoluteStaticCrop"),
        params={"images": "image", "x_center": "value", "y_center": "value", "width": "value", "height": "value"},
        required=("images", "x_center", "y_center", "width", "height"),
        outputs=("crops",),
        aliases=IMAGE_ALIAS,
    ),
)
