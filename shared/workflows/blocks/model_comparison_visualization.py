"""Roboflow's ``roboflow_core/model_comparison_visualization@v1``. Where two models' detections differ: each one's
alone in its colour, neither's in the background colour."""

from shared.workflows.blockspec import BlockSpec, types_of

SPECS = (
    BlockSpec(
        types=types_of("model_comparison_visualization", (1,)),
        params={
            "image": "image",
            "copy_image": "value",
            "predictions_a": "predictions",
            "predictions_b": "predictions",
            "color_a": "value",
            "color_b": "value",
            "background_color": "value",
            "opacity": "value",
        },
        required=("image", "predictions_a", "predictions_b"),
        outputs=("image",),
        defaults={
            "copy_image": True,
            "color_a": "GREEN",
            "color_b": "RED",
            "background_color": "BLACK",
            "opacity": 0.7,
        },
        aliases={"images": "image"},
    ),
)
