"""Roboflow's ``roboflow_core/byte_tracker@v1``, ``roboflow_core/byte_tracker@v2``,
``roboflow_core/byte_tracker@v3``."""

from shared.workflows.blockspec import BlockSpec, types_of

SPECS = (
    BlockSpec(
        types=types_of("byte_tracker", (1,)),
        params={
            "metadata": "metadata",
            "detections": "predictions",
            "track_activation_threshold": "value",
            "lost_track_buffer": "value",
            "minimum_matching_threshold": "value",
            "minimum_consecutive_frames": "value",
        },
        required=("metadata", "detections"),
        outputs=("tracked_detections",),
        defaults={
            "track_activation_threshold": 0.25,
            "lost_track_buffer": 30,
            "minimum_matching_threshold": 0.8,
            "minimum_consecutive_frames": 1,
        },
        stateful=True,
    ),
    BlockSpec(
        types=types_of("byte_tracker", (2,)),
        params={
            "image": "image",
            "detections": "predictions",
            "track_activation_threshold": "value",
            "lost_track_buffer": "value",
            "minimum_matching_threshold": "value",
            "minimum_consecutive_frames": "value",
        },
        required=("image", "detections"),
        outputs=("tracked_detections",),
        defaults={
            "track_activation_threshold": 0.25,
            "lost_track_buffer": 30,
            "minimum_matching_threshold": 0.8,
            "minimum_consecutive_frames": 1,
        },
        stateful=True,
    ),
    BlockSpec(
        types=types_of("byte_tracker", (3,)),
        params={
            "image": "image",
            "detections": "predictions",
            "track_activation_threshold": "value",
            "lost_track_buffer": "value",
            "minimum_matching_threshold": "value",
            "minimum_consecutive_frames": "value",
            "instances_cache_size": "value",
        },
        required=("image", "detections"),
        outputs=("tracked_detections", "new_instances", "already_seen_instances"),
        defaults={
            "track_activation_threshold": 0.25,
            "lost_track_buffer": 30,
            "minimum_matching_threshold": 0.8,
            "minimum_consecutive_frames": 1,
            "instances_cache_size": 16384,
        },
        stateful=True,
    ),
)
