"""Roboflow's ``roboflow_core/contours_detection@v1``."""

from shared.workflows.blockspec import BlockSpec, types_of

SPECS = (
    BlockSpec(
        types=types_of("contours_detection", (1,)),
        params={"image": "image", "line_thickness": "value"},
        required=("image",),
        outputs=("image", "contours", "hierarchy", "number_contours"),
        defaults={"line_thickness": 3},
        aliases={"images": "image"},
    ),
)
