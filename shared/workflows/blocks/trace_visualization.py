"""Roboflow's ``roboflow_core/trace_visualization@v1``. Draws each track's path over the frames before: state per
video."""

from shared.workflows.blockspec import BlockSpec, types_of

SPECS = (
    BlockSpec(
        types=types_of("trace_visualization", (1,)),
        params={
            "image": "image",
            "predictions": "predictions",
            "copy_image": "value",
            "color_palette": "value",
            "palette_size": "value",
            "custom_colors": "value",
            "color_axis": "value",
            "position": "value",
            "trace_length": "value",
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
            "position": "CENTER",
            "trace_length": 30,
            "thickness": 1,
        },
        aliases={"images": "image"},
        stateful=True,
    ),
)
