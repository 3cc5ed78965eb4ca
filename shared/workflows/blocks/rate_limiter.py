"""Roboflow's ``roboflow_core/rate_limiter@v1``. Lets its next steps run at most once per cooldown of video time (each
video on its own)."""

from shared.workflows.blockspec import BlockSpec, types_of

SPECS = (
    BlockSpec(
        types=types_of("rate_limiter", (1,)),
        params={
            "cooldown_seconds": "value",
            "depends_on": "data",
            "next_steps": "steps",
            "video_reference_image": "image",
        },
        required=("depends_on", "next_steps"),
        outputs=(),
        defaults={"cooldown_seconds": 1.0, "video_reference_image": None},
        flow_control=True,
        stateful=True,
    ),
)
