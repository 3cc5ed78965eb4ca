"""Roboflow's ``roboflow_core/time_in_zone@v3``. v3 takes one polygon or a list of them."""

from shared.workflows.blockspec import BlockSpec, types_of

SPECS = (
    BlockSpec(
        types=types_of("time_in_zone", (3,)),
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
