"""Roboflow's ``roboflow_core/detection_offset@v1``."""

from shared.workflows.blockspec import BlockSpec, types_of

SPECS = (
    BlockSpec(
        types=types_of("detection_offset", (1,), "DetectionOffset"),
        params={"predictions": "predictions", "offset_width": "value", "offset_height": "value", "units": "value"},
        required=("predictions", "offset_width", "offset_height"),
        outputs=("predictions",),
        defaults={"units": "Pixels"},
        aliases={"offset_x": "offset_width", "offset_y": "offset_height"},
    ),
)
