"""Roboflow's ``roboflow_core/time_in_zone@v3``. v3 takes one polygon or a list of them."""

from shared.workflows.block_params import ZONE, ZONE_DEFAULTS
from shared.workflows.blockspec import BlockSpec, types_of

SPECS = (
    BlockSpec(
        types=types_of("time_in_zone", (3,)),
        params={"image": "image", **ZONE},
        required=("image", "detections", "zone"),
        outputs=("timed_detections",),
        defaults=ZONE_DEFAULTS,
        stateful=True,
    ),
)
