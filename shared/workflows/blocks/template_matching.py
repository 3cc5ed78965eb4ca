"""Roboflow's ``roboflow_core/template_matching@v1``."""

from shared.workflows.blockspec import BlockSpec, types_of

SPECS = (
    BlockSpec(
        types=types_of("template_matching", (1,)),
        params={
            "image": "image",
            "template": "image",
            "matching_threshold": "value",
            "apply_nms": "value",
            "nms_threshold": "value",
        },
        required=("image", "template"),
        outputs=("predictions", "number_of_matches"),
        defaults={"matching_threshold": 0.8, "apply_nms": True, "nms_threshold": 0.5},
        aliases={"images": "image", "templates": "template"},
    ),
)
