"""Roboflow's ``roboflow_core/contrast_enhancement@v1``."""

from shared.workflows.blockspec import BlockSpec, types_of

SPECS = (
    BlockSpec(
        types=types_of("contrast_enhancement", (1,)),
        params={
            "image": "image",
            "clip_limit": "value",
            "contrast_multiplier": "value",
            "normalize_brightness": "value",
        },
        required=("image",),
        outputs=("image",),
        defaults={"clip_limit": 0, "contrast_multiplier": 1.0, "normalize_brightness": False},
        aliases={"images": "image"},
    ),
)
