"""Roboflow's ``roboflow_core/stabilize_detections@v1``."""

from shared.workflows.blockspec import BlockSpec, types_of

SPECS = (
    BlockSpec(
        types=types_of("stabilize_detections", (1,)),
        params={
            "image": "image",
            "detections": "predictions",
            "smoothing_window_size": "value",
            "bbox_smoothing_coefficient": "value",
        },
        required=("image", "detections"),
        outputs=("tracked_detections",),
        defaults={"smoothing_window_size": 3, "bbox_smoothing_coefficient": 0.2},
        stateful=True,
    ),
)
