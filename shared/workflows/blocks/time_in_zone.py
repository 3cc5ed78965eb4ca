"""Roboflow's ``roboflow_core/time_in_zone@v1``, ``roboflow_core/time_in_zone@v2``."""

from shared.workflows.block_params import ZONE, ZONE_DEFAULTS
from shared.workflows.blockspec import BlockSpec, types_of

SPECS = (
    BlockSpec(
        types=types_of("time_in_zone", (1,)),
        params={"image": "image", "metadata": "metadata", **ZONE},
        required=("image", "metadata", "detections", "zone"),
        outputs=("timed_detections",),
        defaults=ZONE_DEFAULTS,
        stateful=True,
    ),
    BlockSpec(
        types=types_of("time_in_zone", (2,)),
        params={"image": "image", **ZONE},
        required=("image", "detections", "zone"),
        outputs=("timed_detections",),
        defaults=ZONE_DEFAULTS,
        stateful=True,
    ),
)
