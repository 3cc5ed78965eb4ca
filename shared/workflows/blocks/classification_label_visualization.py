"""Roboflow's ``roboflow_core/classification_label_visualization@v1``."""

from shared.workflows.block_params import COLOUR_DEFAULTS, LABEL_DEFAULTS
from shared.workflows.blockspec import BlockSpec, types_of

SPECS = (
    BlockSpec(
        types=types_of("classification_label_visualization", (1,)),
        params={
            "image": "image",
            "predictions": "data",
            "copy_image": "value",
            "color_palette": "value",
            "palette_size": "value",
            "custom_colors": "value",
            "color_axis": "value",
            "text": "value",
            "text_position": "value",
            "text_color": "value",
            "text_scale": "value",
            "text_thickness": "value",
            "text_padding": "value",
            "border_radius": "value",
        },
        required=("image", "predictions"),
        outputs=("image",),
        defaults={**COLOUR_DEFAULTS, **LABEL_DEFAULTS},
        aliases={"images": "image"},
    ),
)
