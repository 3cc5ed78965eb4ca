"""Roboflow's ``roboflow_core/detections_list_rollup@v1``."""

from __future__ import annotations

from typing import Any

from shared.workflows.blockspec import BlockSpec, literal, types_of
from shared.workflows.errors import WorkflowInvalid

SPECS = (
    BlockSpec(
        types=types_of("detections_list_rollup", (1,), "DetectionsListRollUp"),
        params={
            "parent_detection": "predictions",
            "child_detections": "data",
            "confidence_strategy": "value",
            "overlap_threshold": "value",
            "keypoint_merge_threshold": "value",
        },
        required=("parent_detection", "child_detections"),
        outputs=("rolled_up_detections", "crop_zones"),
        defaults={"confidence_strategy": "max", "overlap_threshold": 0.0, "keypoint_merge_threshold": 10.0},
    ),
)


CONFIDENCE_STRATEGIES = ("max", "mean", "min")


def check(step: dict[str, Any], block: BlockSpec, where: str) -> None:
    strategy = literal(step, "confidence_strategy")
    if strategy is not None and strategy not in CONFIDENCE_STRATEGIES:
        raise WorkflowInvalid(f"{where}: confidence_strategy must be one of {CONFIDENCE_STRATEGIES}")
    threshold = literal(step, "overlap_threshold")
    if threshold is not None and not 0 <= float(threshold) <= 1:
        raise WorkflowInvalid(f"{where}: overlap_threshold must be between 0 and 1")
