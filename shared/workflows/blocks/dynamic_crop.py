"""Roboflow's ``roboflow_core/dynamic_crop@v1``."""

from shared.workflows.blockspec import BlockSpec, types_of

SPECS = (
    BlockSpec(
        types=types_of("dynamic_crop", (1,), "DynamicCrop", "Crop"),
        params={"images": "image", "predictions": "predictions", "mask_opacity": "value", "background_color": "value"},
        required=("images", "predictions"),
        outputs=("crops", "predictions"),
        defaults={"mask_opacity": 0.0, "background_color": [0, 0, 0]},
        aliases={"image": "images", "detections": "predictions"},
        dimension=1,
    ),
)
