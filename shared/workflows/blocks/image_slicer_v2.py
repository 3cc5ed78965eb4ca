"""Roboflow's ``roboflow_core/image_slicer@v2``."""

from shared.workflows.block_params import SLICER, SLICER_DEFAULTS
from shared.workflows.blockspec import BlockSpec, types_of

SPECS = (
    BlockSpec(
        types=types_of("image_slicer", (2,)),
        params=SLICER,
        required=("image",),
        outputs=("slices",),
        defaults=SLICER_DEFAULTS,
        aliases={"images": "image"},
        dimension=1,
    ),
)
