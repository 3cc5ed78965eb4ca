"""Roboflow's ``roboflow_core/detections_nearest_neighbor@v1``."""

from __future__ import annotations

from typing import Any

from shared.workflows.blockspec import BlockSpec, literal, types_of
from shared.workflows.errors import WorkflowInvalid

SPECS = (
    BlockSpec(
        types=types_of("detections_nearest_neighbor", (1,)),
        params={
            "query_predictions": "predictions",
            "target_predictions": "predictions",
            "query_point": "value",
            "target_point": "value",
            "query_keypoint_name": "value",
            "target_keypoint_name": "value",
            "max_distance": "value",
        },
        required=("query_predictions", "target_predictions"),
        outputs=("query_predictions", "matched_query_detections", "matched_target_detections"),
        defaults={
            "query_point": "CENTER",
            "target_point": "CENTER",
            "query_keypoint_name": None,
            "target_keypoint_name": None,
            "max_distance": None,
        },
    ),
)


ANCHORS = (
    "CENTER",
    "CENTER_LEFT",
    "CENTER_RIGHT",
    "TOP_CENTER",
    "TOP_LEFT",
    "TOP_RIGHT",
    "BOTTOM_LEFT",
    "BOTTOM_CENTER",
    "BOTTOM_RIGHT",
    "KEYPOINT",
)


def check(step: dict[str, Any], block: BlockSpec, where: str) -> None:
    for key in ("query_point", "target_point"):
        point = literal(step, key)
        if point is not None and point not in ANCHORS:
            raise WorkflowInvalid(f"{where}: {key} must be one of {ANCHORS}")
