"""Roboflow's ``roboflow_core/frame_delay@v1``, ``roboflow_core/time_travel@v1``. A value of an earlier frame of the
same video (offset <= 0 frames)."""

from shared.workflows.blockspec import BlockSpec, types_of

SPECS = (
    BlockSpec(
        types=types_of("frame_delay", (1,), "FrameDelay", "roboflow_core/time_travel@v1", "TimeTravel"),
        params={"image": "image", "data": "data", "offset": "value", "default_value": "value"},
        required=("image", "data", "offset"),
        outputs=("output", "is_available", "reference_frame_number"),
        defaults={"default_value": None},
        stateful=True,
    ),
)
