"""Roboflow's ``roboflow_core/background_color_visualization@v1``."""

from shared.workflows.blockspec import BlockSpec, types_of

SPECS = (
    BlockSpec(
        types=types_of("background_color_visualization", (1,), "BackgroundColorVisualization"),
        params={
            "image": "image",
            "predictions": "predictions",
            "copy_image": "value",
            "color": "value",
            "opacity": "value",
        },
        required=("image", "predictions"),
        outputs=("image",),
        defaults={"copy_image": True, "color": "BLACK", "opacity": 0.5},
        aliases={"images": "image"},
    ),
)
