"""Roboflow's ``roboflow_core/keypoint_visualization@v1``."""

from shared.workflows.blockspec import BlockSpec, types_of

SPECS = (
    BlockSpec(
        types=types_of("keypoint_visualization", (1,), "KeypointVisualization"),
        params={
            "image": "image",
            "predictions": "predictions",
            "copy_image": "value",
            "annotator_type": "value",
            "color": "value",
            "text_color": "value",
            "text_scale": "value",
            "text_thickness": "value",
            "text_padding": "value",
            "thickness": "value",
            "radius": "value",
            "edges": "value",
        },
        required=("image", "predictions"),
        outputs=("image",),
        defaults={
            "copy_image": True,
            "annotator_type": "edge",
            "color": "#A351FB",
            "text_color": "black",
            "text_scale": 0.5,
            "text_thickness": 1,
            "text_padding": 10,
            "thickness": 2,
            "radius": 10,
            "edges": None,
        },
        aliases={"images": "image"},
    ),
)
