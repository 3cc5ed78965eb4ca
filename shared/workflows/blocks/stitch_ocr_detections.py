"""Roboflow's ``roboflow_core/stitch_ocr_detections@v1``, ``roboflow_core/stitch_ocr_detections@v2``."""

from __future__ import annotations

from typing import Any

from shared.workflows.block_params import STITCH_OCR
from shared.workflows.blockspec import BlockSpec, literal, types_of
from shared.workflows.errors import WorkflowInvalid

SPECS = (
    BlockSpec(
        types=types_of("stitch_ocr_detections", (1,)),
        params=STITCH_OCR,
        required=("predictions", "reading_direction"),
        outputs=("ocr_text",),
        defaults={"tolerance": 10, "delimiter": ""},
    ),
    BlockSpec(
        types=types_of("stitch_ocr_detections", (2,)),
        params={
            **STITCH_OCR,
            "stitching_algorithm": "value",
            "otsu_threshold_multiplier": "value",
            "collimate_tolerance": "value",
        },
        required=("predictions", "reading_direction", "stitching_algorithm"),
        outputs=("ocr_text",),
        defaults={"tolerance": 10, "delimiter": "", "otsu_threshold_multiplier": 1.0, "collimate_tolerance": 10},
    ),
)


def check(step: dict[str, Any], block: BlockSpec, where: str) -> None:
    algorithm = literal(step, "stitching_algorithm", "tolerance")
    if isinstance(algorithm, str) and algorithm not in ("tolerance", "otsu", "collimate"):
        raise WorkflowInvalid(f"{where}: stitching_algorithm must be tolerance, otsu or collimate, not {algorithm!r}")
