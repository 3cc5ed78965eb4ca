"""Roboflow's ``roboflow_core/byte_tracker@v1``, ``roboflow_core/byte_tracker@v2``,
``roboflow_core/byte_tracker@v3``."""

from shared.workflows.block_params import TRACKER, TRACKER_DEFAULTS
from shared.workflows.blockspec import BlockSpec, types_of

SPECS = (
    BlockSpec(
        types=types_of("byte_tracker", (1,)),
        params={"metadata": "metadata", **TRACKER},
        required=("metadata", "detections"),
        outputs=("tracked_detections",),
        defaults=TRACKER_DEFAULTS,
        stateful=True,
    ),
    BlockSpec(
        types=types_of("byte_tracker", (2,)),
        params={"image": "image", **TRACKER},
        required=("image", "detections"),
        outputs=("tracked_detections",),
        defaults=TRACKER_DEFAULTS,
        stateful=True,
    ),
    BlockSpec(
        types=types_of("byte_tracker", (3,)),
        params={"image": "image", **TRACKER, "instances_cache_size": "value"},
        required=("image", "detections"),
        outputs=("tracked_detections", "new_instances", "already_seen_instances"),
        defaults={**TRACKER_DEFAULTS, "instances_cache_size": 16384},
        stateful=True,
    ),
)
