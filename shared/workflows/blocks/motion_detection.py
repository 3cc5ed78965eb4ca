"""Roboflow's ``roboflow_core/motion_detection@v1``. A background model learnt over a video's frames: state per video
(a still image is its own video)."""

from shared.workflows.block_params import MOTION
from shared.workflows.blockspec import BlockSpec, types_of

SPECS = (
    BlockSpec(
        types=types_of("motion_detection", (1,)),
        params={
            **MOTION,
            "minimum_contour_area": "value",
            "morphological_kernel_size": "value",
            "detection_zone": "value",
            "suppress_first_detections": "value",
        },
        required=("image",),
        outputs=("motion", "alarm", "detections", "motion_zones"),
        defaults={
            "threshold": 16,
            "history": 30,
            "minimum_contour_area": 200,
            "morphological_kernel_size": 3,
            "detection_zone": None,
            "suppress_first_detections": True,
        },
        aliases={"images": "image"},
        stateful=True,
    ),
)
