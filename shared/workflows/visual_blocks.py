"""Roboflow's visualisation blocks as the built-in executor compiles them, with Roboflow's parameters and
defaults. The worker draws them with supervision's annotators, as Roboflow's engine does
(``worker_svc.workflows.visualizations``)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from shared.workflows.blockspec import BlockSpec, types_of

_BASE = {"image": "image", "predictions": "predictions", "copy_image": "value"}
# colourable blocks: the colour of a detection is picked from a palette by class, index or track
_COLOURS = {**_BASE, "color_palette": "value", "palette_size": "value", "custom_colors": "value",
            "color_axis": "value"}
_COLOUR_DEFAULTS: dict[str, Any] = {"copy_image": True, "color_palette": "DEFAULT", "palette_size": 10,
                                    "custom_colors": [], "color_axis": "CLASS"}
_ALIASES = {"images": "image"}
_LABEL = {"text": "Class", "text_position": "TOP_LEFT", "text_color": "WHITE", "text_scale": 1.0,
          "text_thickness": 1, "text_padding": 10, "border_radius": 0}


def _visual(name: str, legacy: str | None, own: dict[str, Any], *, colours: bool = True,
            stateful: bool = False) -> BlockSpec:
    """A visualisation block: the image and predictions, the colour parameters, and its own (with defaults)."""
    params = {**(_COLOURS if colours else _BASE), **{key: "value" for key in own}}
    defaults = {**(_COLOUR_DEFAULTS if colours else {"copy_image": True}), **own}
    types = types_of(name, (1,), *([legacy] if legacy else []))
    return BlockSpec(name, types, params, ("image", "predictions"), ("image",), defaults, _ALIASES, stateful=stateful)


VISUAL_BLOCKS: list[BlockSpec] = [
    _visual("bounding_box_visualization", "BoundingBoxVisualization", {"thickness": 2, "roundness": 0.0}),
    _visual("label_visualization", "LabelVisualization", _LABEL),
    # v2 can size the text to the image (text_size_mode "Automatic")
    replace(_visual("label_visualization", None, {**_LABEL, "text_size_mode": "Manual"}),
            name="label_visualization_v2", types=types_of("label_visualization", (2,))),
    _visual("blur_visualization", "BlurVisualization", {"kernel_size": 15}, colours=False),
    _visual("pixelate_visualization", "PixelateVisualization", {"pixel_size": 20}, colours=False),
    _visual("background_color_visualization", "BackgroundColorVisualization", {"color": "BLACK", "opacity": 0.5},
            colours=False),
    _visual("mask_visualization", "MaskVisualization", {"opacity": 0.5}),
    _visual("polygon_visualization", "PolygonVisualization", {"thickness": 2}),
    _visual("halo_visualization", "HaloVisualization", {"opacity": 0.8, "kernel_size": 40}),
    _visual("color_visualization", "ColorVisualization", {"opacity": 0.5}),
    _visual("dot_visualization", "DotVisualization", {"position": "CENTER", "radius": 4, "outline_thickness": 0}),
    _visual("circle_visualization", "CircleVisualization", {"thickness": 2}),
    _visual("triangle_visualization", "TriangleVisualization",
            {"position": "TOP_CENTER", "base": 10, "height": 10, "outline_thickness": 0}),
    _visual("corner_visualization", "CornerVisualization", {"thickness": 4, "corner_length": 15}),
    _visual("ellipse_visualization", "EllipseVisualization", {"thickness": 2, "start_angle": -45, "end_angle": 235}),
    _visual("crop_visualization", "CropVisualization",
            {"position": "TOP_CENTER", "scale_factor": 2.0, "border_thickness": 2}),
    BlockSpec("classification_label_visualization", types_of("classification_label_visualization", (1,)),
              {**_COLOURS, "predictions": "data", "text": "value", "text_position": "value", "text_color": "value",
               "text_scale": "value", "text_thickness": "value", "text_padding": "value", "border_radius": "value"},
              ("image", "predictions"), ("image",),
              {**_COLOUR_DEFAULTS, "text": "Class", "text_position": "TOP_LEFT", "text_color": "WHITE",
               "text_scale": 1.0, "text_thickness": 1, "text_padding": 10, "border_radius": 0}, _ALIASES),
    _visual("keypoint_visualization", "KeypointVisualization",
            {"annotator_type": "edge", "color": "#A351FB", "text_color": "black", "text_scale": 0.5,
             "text_thickness": 1, "text_padding": 10, "thickness": 2, "radius": 10, "edges": None}, colours=False),
    # draws each track's path over the frames before: state per video
    _visual("trace_visualization", None, {"position": "CENTER", "trace_length": 30, "thickness": 1},
            stateful=True),
    # where two models' detections differ: each one's alone in its colour, neither's in the background colour
    BlockSpec("model_comparison_visualization", types_of("model_comparison_visualization", (1,)),
              {"image": "image", "copy_image": "value", "predictions_a": "predictions", "predictions_b": "predictions",
               "color_a": "value", "color_b": "value", "background_color": "value", "opacity": "value"},
              ("image", "predictions_a", "predictions_b"), ("image",),
              {"copy_image": True, "color_a": "GREEN", "color_b": "RED", "background_color": "BLACK", "opacity": 0.7},
              _ALIASES),
]
