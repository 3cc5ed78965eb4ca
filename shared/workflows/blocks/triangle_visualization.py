"""Roboflow's ``roboflow_core/triangle_visualization@v1``."""

from shared.workflows.blockspec import BlockSpec, types_of

SPECS = (
    BlockSpec(
        types=types_of("triangle_visualization", (1,), "TriangleVisualization"),
        params={
            "image": "image",
            "predictions": "predictions",
            "copy_image": "value",
            "color_palette": "value",
            "palette_size": "value",
            "custom_colors": "value",
            "color_axis": "value",
            "position": "value",
            "base": "value",
            "height": "value",
            "outline_thickness": "value",
        },
        required=("image", "predictions"),
        outputs=("image",),
        defaults={
            "copy_image": True,
            "color_palette": "DEFAULT",
            "palette_size": 10,
            "custom_colors": [],
            "color_axis": "CLASS",
            "position": "TOP_CENTER",
            "base": 10,
            "height": 10,
            "outline_thickness": 0,
        },
        aliases={"images": "image"},
    ),
)
