"""Roboflow's ``roboflow_core/pixelate_visualization@v1``."""

from shared.workflows.blockspec import BlockSpec, types_of

SPECS = (
    BlockSpec(
        types=types_of("pixelate_visualization", (1,), "PixelateVisualization"),
        params={"image": "image", "predictions": "predictions", "copy_image": "value", "pixel_size": "value"},
        required=("image", "predictions"),
        outputs=("image",),
        defaults={"copy_image": True, "pixel_size": 20},
        aliases={"images": "image"},
    ),
)
