"""Roboflow's ``roboflow_core/line_counter@v1``, ``roboflow_core/line_counter@v2``."""

from shared.workflows.blockspec import BlockSpec, types_of

SPECS = (
    BlockSpec(
        types=types_of("line_counter", (1,)),
        params={
            "metadata": "metadata",
            "detections": "predictions",
            "line_segment": "value",
            "triggering_anchor": "value",
        },
        required=("metadata", "detections", "line_segment"),
        outputs=("count_in", "count_out"),
        defaults={"triggering_anchor": "CENTER"},
        stateful=True,
    ),
    BlockSpec(
        types=types_of("line_counter", (2,)),
        params={"image": "image", "detections": "predictions", "line_segment": "value", "triggering_anchor": "value"},
        required=("image", "detections", "line_segment"),
        outputs=("count_in", "count_out", "detections_in", "detections_out"),
        defaults={"triggering_anchor": None},
        stateful=True,
    ),
)
