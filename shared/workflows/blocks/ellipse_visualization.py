"""Roboflow's ``roboflow_core/ellipse_visualization@v1``."""

from shared.workflows.blockspec import BlockSpec, types_of

SPECS = (
    BlockSpec(
        types=types_of("ellipse_visualization", (1,), "EllipseVisualization"),
        params={
            "image": "image",
            "predictions": "predictions",
            "copy_image": "value",
            "color_palette": "value",
            "palette_size": "value",
            "custom_colors": "value",
            "color_axis": "value",
            "thickness": "value",
            "start_angle": "value",
            "end_angle": "value",
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
            "start_angle": -45,
            "end_angle": 235,
        },
        aliases={"images": "image"},
    ),
)
