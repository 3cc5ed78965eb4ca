"""Roboflow's ``roboflow_core/track_class_lock@v1``."""

from shared.workflows.blockspec import BlockSpec, types_of

SPECS = (
    BlockSpec(
        types=types_of("track_class_lock", (1,)),
        params={
            "image": "image",
            "detections": "predictions",
            "min_votes": "value",
            "vote_confidence": "value",
            "lead_margin": "value",
            "switch_after": "value",
            "state_ttl": "value",
            "reattach_window": "value",
            "reattach_iou": "value",
        },
        required=("image", "detections"),
        outputs=("tracked_detections",),
        defaults={
            "min_votes": 10,
            "vote_confidence": 0.8,
            "lead_margin": 3,
            "switch_after": 15,
            "state_ttl": 300,
            "reattach_window": 30,
            "reattach_iou": 0.3,
        },
        stateful=True,
    ),
)
