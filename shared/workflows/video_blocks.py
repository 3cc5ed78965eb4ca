"""Roboflow's stateful video blocks as the built-in executor compiles them: trackers, line counters, time in zone,
the detections stabiliser, track class lock, frame delay and the rate limiter.

They keep state from one frame of a video to the next (the worker runs a video's frames in order, in one task,
and gives every video fresh state); on a still image each image is a video of one frame, as in Roboflow's
engine. The ``metadata`` kind is a selector of a ``WorkflowVideoMetadata`` input (the v1 blocks); later
versions read the frame's metadata from their ``image``.
"""

from __future__ import annotations

from shared.workflows.blockspec import BlockSpec, types_of

_TRACKER = {"detections": "predictions", "track_activation_threshold": "value", "lost_track_buffer": "value",
            "minimum_matching_threshold": "value", "minimum_consecutive_frames": "value"}
_TRACKER_DEFAULTS = {"track_activation_threshold": 0.25, "lost_track_buffer": 30, "minimum_matching_threshold": 0.8,
                     "minimum_consecutive_frames": 1}
_ZONE = {"detections": "predictions", "zone": "value", "triggering_anchor": "value",
         "remove_out_of_zone_detections": "value", "reset_out_of_zone_detections": "value"}
_ZONE_DEFAULTS = {"triggering_anchor": "CENTER", "remove_out_of_zone_detections": True,
                  "reset_out_of_zone_detections": True}

VIDEO_BLOCKS: list[BlockSpec] = [
    BlockSpec("byte_tracker", types_of("byte_tracker", (1,)), {"metadata": "metadata", **_TRACKER},
              ("metadata", "detections"), ("tracked_detections",), _TRACKER_DEFAULTS, stateful=True),
    BlockSpec("byte_tracker", types_of("byte_tracker", (2,)), {"image": "image", **_TRACKER},
              ("image", "detections"), ("tracked_detections",), _TRACKER_DEFAULTS, stateful=True),
    BlockSpec("byte_tracker", types_of("byte_tracker", (3,)),
              {"image": "image", **_TRACKER, "instances_cache_size": "value"}, ("image", "detections"),
              ("tracked_detections", "new_instances", "already_seen_instances"),
              {**_TRACKER_DEFAULTS, "instances_cache_size": 16384}, stateful=True),
    BlockSpec("stabilize_detections", types_of("stabilize_detections", (1,)),
              {"image": "image", "detections": "predictions", "smoothing_window_size": "value",
               "bbox_smoothing_coefficient": "value"}, ("image", "detections"), ("tracked_detections",),
              {"smoothing_window_size": 3, "bbox_smoothing_coefficient": 0.2}, stateful=True),
    BlockSpec("line_counter", types_of("line_counter", (1,)),
              {"metadata": "metadata", "detections": "predictions", "line_segment": "value",
               "triggering_anchor": "value"},
              ("metadata", "detections", "line_segment"), ("count_in", "count_out"), {"triggering_anchor": "CENTER"},
              stateful=True),
    BlockSpec("line_counter", types_of("line_counter", (2,)),
              {"image": "image", "detections": "predictions", "line_segment": "value", "triggering_anchor": "value"},
              ("image", "detections", "line_segment"), ("count_in", "count_out", "detections_in", "detections_out"),
              {"triggering_anchor": None}, stateful=True),
    BlockSpec("time_in_zone", types_of("time_in_zone", (1,)), {"image": "image", "metadata": "metadata", **_ZONE},
              ("image", "metadata", "detections", "zone"), ("timed_detections",), _ZONE_DEFAULTS, stateful=True),
    BlockSpec("time_in_zone", types_of("time_in_zone", (2,)), {"image": "image", **_ZONE},
              ("image", "detections", "zone"), ("timed_detections",), _ZONE_DEFAULTS, stateful=True),
    # v3 takes one polygon or a list of them
    BlockSpec("time_in_zone_v3", types_of("time_in_zone", (3,)), {"image": "image", **_ZONE},
              ("image", "detections", "zone"), ("timed_detections",), _ZONE_DEFAULTS, stateful=True),
    BlockSpec("track_class_lock", types_of("track_class_lock", (1,)),
              {"image": "image", "detections": "predictions", "min_votes": "value", "vote_confidence": "value",
               "lead_margin": "value", "switch_after": "value", "state_ttl": "value", "reattach_window": "value",
               "reattach_iou": "value"},
              ("image", "detections"), ("tracked_detections",),
              {"min_votes": 10, "vote_confidence": 0.8, "lead_margin": 3, "switch_after": 15, "state_ttl": 300,
               "reattach_window": 30, "reattach_iou": 0.3}, stateful=True),
    # a value of an earlier frame of the same video (offset <= 0 frames)
    BlockSpec("frame_delay", types_of("frame_delay", (1,), "FrameDelay", "roboflow_core/time_travel@v1", "TimeTravel"),
              {"image": "image", "data": "data", "offset": "value", "default_value": "value"},
              ("image", "data", "offset"), ("output", "is_available", "reference_frame_number"),
              {"default_value": None}, stateful=True),
    # lets its next steps run at most once per cooldown of video time (each video on its own)
    BlockSpec("rate_limiter", types_of("rate_limiter", (1,)),
              {"cooldown_seconds": "value", "depends_on": "data", "next_steps": "steps",
               "video_reference_image": "image"},
              ("depends_on", "next_steps"), (), {"cooldown_seconds": 1.0, "video_reference_image": None},
              flow_control=True, stateful=True),
]
