"""Roboflow's ``roboflow_core/image_blur@v1``."""

from shared.workflows.blockspec import BlockSpec, types_of

SPECS = (
    BlockSpec(
        types=types_of("image_blur", (1,)),
        params={"image": "image", "blur_type": "value", "kernel_size": "value"},
        required=("image",),
        outputs=("image",),
        defaults={"blur_type": "gaussian", "kernel_size": 5},
        aliases={"images": "image"},
    ),
)
