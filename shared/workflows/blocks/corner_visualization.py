"""Roboflow's ``roboflow_core/corner_visualization@v1``."""

from shared.workflows.blockspec import BlockSpec, types_of

SPECS = (
    BlockSpec(
        types=types_of("corner_visualization", (1,), "CornerVisualization"),
        params={
            "image": "image",
            "predictions": "predictions",
            "copy_image": "value",
            "color_palette": "value",
            "palette_size": "value",
            "custom_colors": "value",
            "color_axis": "value",
            "thickness": "value",
            "corner_length": "value",
        },
        required=("image", "predictions"),
        outputs=("image",),
        defaults={
            "copy_image": True,
            "color_palette": "DEFAULT",
            "palette_size": 10,
            "custom_colors": [],
            "color_axis": "CLASS",
            "thickness": 4,
            "corner_length": 15,
        },
        aliases={"images": "image"},
    ),
)
