"""Roboflow's ``roboflow_core/background_subtraction@v1``. A background model learnt over a video's frames: state per
video (a still image is its own video)."""

from shared.workflows.block_params import MOTION
from shared.workflows.blockspec import BlockSpec, types_of

SPECS = (
    BlockSpec(
        types=types_of("background_subtraction", (1,)),
        params=MOTION,
        required=("image",),
        outputs=("image",),
        defaults={"threshold": 16, "history": 30},
        aliases={"images": "image"},
        stateful=True,
    ),
)
