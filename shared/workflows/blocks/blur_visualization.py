"""Roboflow's ``roboflow_core/blur_visualization@v1``."""

from shared.workflows.blockspec import BlockSpec, types_of

SPECS = (
    BlockSpec(
        types=types_of("blur_visualization", (1,), "BlurVisualization"),
        params={"image": "image", "predictions": "predictions", "copy_image": "value", "kernel_size": "value"},
        required=("image", "predictions"),
        outputs=("image",),
        defaults={"copy_image": True, "kernel_size": 15},
        aliases={"images": "image"},
    ),
)
