"""Roboflow's ``roboflow_core/morphological_transformation@v2``."""

from shared.workflows.blockspec import BlockSpec, types_of

SPECS = (
    BlockSpec(
        types=types_of("morphological_transformation", (2,)),
        params={"image": "image", "kernel_size": "value", "operation": "value"},
        required=("image",),
        outputs=("image",),
        defaults={"kernel_size": 5, "operation": "Opening then Closing"},
        aliases={"images": "image"},
    ),
)
