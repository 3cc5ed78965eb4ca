"""Roboflow's ``roboflow_core/time_in_zone@v1``, ``roboflow_core/time_in_zone@v2``."""

from shared.workflows.blockspec import BlockSpec, types_of

SPECS = (
    BlockSpec(
        types=types_of("time_in_zone", (1,)),
        params={
            "image": "image",
            "metadata": "metadata",
            "detections": "predictions",
            "zone": "value",
            "triggering_anchor": "value",
            "remove_out_of_zone_detections": "value",
            "reset_out_of_zone_detections": "value",
        },
        required=("image", "metadata", "detections", "zone"),
        outputs=("timed_detections",),
        defaults={
            "triggering_anchor": "CENTER",
            "remove_out_of_zone_detections": True,
            "reset_out_of_zone_detections": True,
        },
        stateful=True,
    ),
    BlockSpec(
        types=types_of("time_in_zone", (2,)),
        params={
            "image": "image",
            "detections": "predictions",
            "zone": "value",
            "triggering_anchor": "value",
            "remove_out_of_zone_detections": "value",
            "reset_out_of_zone_detections": "value",
        },
        required=("image", "detections", "zone"),
        outputs=("timed_detections",),
        defaults={
            "triggering_anchor": "CENTER",
            "remove_out_of_zone_detections": True,
            "reset_out_of_zone_detections": True,
        },
        stateful=True,
    ),
)
