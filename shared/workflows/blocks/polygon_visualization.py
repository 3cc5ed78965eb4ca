"""Roboflow's ``roboflow_core/polygon_visualization@v1``."""

from shared.workflows.blockspec import BlockSpec, types_of

SPECS = (
    BlockSpec(
        types=types_of("polygon_visualization", (1,), "PolygonVisualization"),
        params={
            "image": "image",
            "predictions": "predictions",
            "copy_image": "value",
            "color_palette": "value",
            "palette_size": "value",
            "custom_colors": "value",
            "color_axis": "value",
            "thickness": "value",
        },
        required=("image", "predictions"),
        outputs=("image",),
        defaults={
            "copy_image": True,
            "color_palette": "DEFAULT",
            "palette_size": 10,
            "custom_colors": [],
            "color_axis": "CLASS",
            "thickness": 2,
        },
        aliases={"images": "image"},
    ),
)
