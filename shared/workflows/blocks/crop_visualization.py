"""Roboflow's ``roboflow_core/crop_visualization@v1``."""

from shared.workflows.blockspec import BlockSpec, types_of

SPECS = (
    BlockSpec(
        types=types_of("crop_visualization", (1,), "CropVisualization"),
        params={
            "image": "image",
            "predictions": "predictions",
            "copy_image": "value",
            "color_palette": "value",
            "palette_size": "value",
            "custom_colors": "value",
            "color_axis": "value",
            "position": "value",
            "scale_factor": "value",
            "border_thickness": "value",
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
            "scale_factor": 2.0,
            "border_thickness": 2,
        },
        aliases={"images": "image"},
    ),
)
