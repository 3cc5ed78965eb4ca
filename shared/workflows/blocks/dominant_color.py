"""Roboflow's ``roboflow_core/dominant_color@v1``."""

from shared.workflows.blockspec import BlockSpec, types_of

SPECS = (
    BlockSpec(
        types=types_of("dominant_color", (1,)),
        params={"image": "image", "color_clusters": "value", "max_iterations": "value", "target_size": "value"},
        required=("image",),
        outputs=("rgb_color",),
        defaults={"color_clusters": 4, "max_iterations": 100, "target_size": 100},
        aliases={"images": "image"},
    ),
)
