"""Roboflow's ``roboflow_core/image_preprocessing@v1``."""

from shared.workflows.blockspec import BlockSpec, types_of

SPECS = (
    BlockSpec(
        types=types_of("image_preprocessing", (1,)),
        params={
            "image": "image",
            "task_type": "value",
            "width": "value",
            "height": "value",
            "rotation_degrees": "value",
            "flip_type": "value",
        },
        required=("image", "task_type"),
        outputs=("image",),
        defaults={"width": 640, "height": 640, "rotation_degrees": 90, "flip_type": "vertical"},
        aliases={"images": "image"},
    ),
)
