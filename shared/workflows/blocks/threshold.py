"""Roboflow's ``roboflow_core/threshold@v1``."""

from shared.workflows.blockspec import BlockSpec, types_of

SPECS = (
    BlockSpec(
        types=types_of("threshold", (1,)),
        params={"image": "image", "threshold_type": "value", "thresh_value": "value", "max_value": "value"},
        required=("image", "thresh_value"),
        outputs=("image",),
        defaults={"threshold_type": "binary", "max_value": 255},
        aliases={"images": "image"},
    ),
)
