"""Roboflow's ``roboflow_core/convert_grayscale@v1``."""

from shared.workflows.blockspec import BlockSpec, types_of

SPECS = (
    BlockSpec(
        types=types_of("convert_grayscale", (1,)),
        params={"image": "image"},
        required=("image",),
        outputs=("image",),
        aliases={"images": "image"},
    ),
)
