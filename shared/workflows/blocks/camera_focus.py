"""Roboflow's ``roboflow_core/camera_focus@v1``."""

from shared.workflows.blockspec import BlockSpec, types_of

SPECS = (
    BlockSpec(
        types=types_of("camera_focus", (1,)),
        params={"image": "image"},
        required=("image",),
        outputs=("image", "focus_measure"),
        aliases={"images": "image"},
    ),
)
