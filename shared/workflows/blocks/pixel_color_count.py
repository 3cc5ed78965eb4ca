"""Roboflow's ``roboflow_core/pixel_color_count@v1``."""

from shared.workflows.blockspec import BlockSpec, types_of

SPECS = (
    BlockSpec(
        types=types_of("pixel_color_count", (1,)),
        params={"image": "image", "target_color": "value", "tolerance": "value"},
        required=("image", "target_color"),
        outputs=("matching_pixels_count",),
        defaults={"tolerance": 10},
        aliases={"images": "image"},
    ),
)
