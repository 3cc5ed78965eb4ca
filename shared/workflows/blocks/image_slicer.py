"""Roboflow's ``roboflow_core/image_slicer@v1``."""

from shared.workflows.blockspec import BlockSpec, types_of

SPECS = (
    BlockSpec(
        types=types_of("image_slicer", (1,)),
        params={
            "image": "image",
            "slice_width": "value",
            "slice_height": "value",
            "overlap_ratio_width": "value",
            "overlap_ratio_height": "value",
        },
        required=("image",),
        outputs=("slices",),
        defaults={"slice_width": 640, "slice_height": 640, "overlap_ratio_width": 0.2, "overlap_ratio_height": 0.2},
        aliases={"images": "image"},
        dimension=1,
    ),
)
