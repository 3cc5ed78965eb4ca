"""Roboflow's ``roboflow_core/perspective_correction@v1``."""

from __future__ import annotations

from typing import Any

from shared.workflows.block_params import IMAGE_ALIAS
from shared.workflows.blockspec import BlockSpec, literal, types_of
from shared.workflows.errors import BuiltinLacks

SPECS = (
    BlockSpec(
        types=types_of("perspective_correction", (1,), "PerspectiveCorrection"),
        params={
            "images": "image",
            "predictions": "predictions",
            "perspective_polygons": "data",
            "transformed_rect_width": "value",
            "transformed_rect_height": "value",
            "extend_perspective_polygon_by_detections_anchor": "value",
            "warp_image": "value",
        },
        required=("images", "perspective_polygons"),
        outputs=(
            "corrected_coordinates",
            "warped_image",
            "extended_transformed_rect_width",
            "extended_transformed_rect_height",
        ),
        defaults={
            "transformed_rect_width": 1000,
            "transformed_rect_height": 1000,
            "extend_perspective_polygon_by_detections_anchor": "",
            "warp_image": False,
        },
        aliases=IMAGE_ALIAS,
    ),
)


def check(step: dict[str, Any], block: BlockSpec, where: str) -> None:
    if literal(step, "extend_perspective_polygon_by_detections_anchor", ""):
        raise BuiltinLacks(
            f"{where}: extend_perspective_polygon_by_detections_anchor is not built in (the polygon "
            "is corrected as given; the engine backend extends it)"
        )
