"""Roboflow's ``roboflow_core/classification_label_visualization@v1``."""

from shared.workflows.blockspec import BlockSpec, types_of

SPECS = (
    BlockSpec(
        types=types_of("classification_label_visualization", (1,)),
        params={
            "image": "image",
            "predictions": "data",
            "copy_image": "value",
            "color_palette": "value",
            "palette_size": "value",
            "custom_colors": "value",
            "color_axis": "value",
            "text": "value",
            "text_position": "value",
            "text_color": "value",
            "text_scale": "value",
            "text_thickness": "value",
            "text_padding": "value",
            "border_radius": "value",
        },
        required=("image", "predictions"),
        outputs=("image",),
        defaults={
            "copy_image": True,
            "color_palette": "DEFAULT",
            "palette_size": 10,
            "custom_colors": [],
            "color_axis": "CLASS",
            "text": "Class",
            "text_position": "TOP_LEFT",
            "text_color": "WHITE",
            "text_scale": 1.0,
            "text_thickness": 1,
            "text_padding": 10,
            "border_radius": 0,
        },
        aliases={"images": "image"},
    ),
)
