"""Roboflow's ``roboflow_core/dynamic_zone@v1``."""

from __future__ import annotations

from typing import Any

from shared.workflows.blockspec import BlockSpec, literal, types_of
from shared.workflows.errors import WorkflowInvalid

SPECS = (
    BlockSpec(
        types=types_of("dynamic_zone", (1,), "DynamicZone"),
        params={
            "predictions": "predictions",
            "required_number_of_vertices": "value",
            "scale_ratio": "value",
            "apply_least_squares": "value",
            "midpoint_fraction": "value",
        },
        required=("predictions", "required_number_of_vertices"),
        outputs=("zones", "predictions", "simplification_converged"),
        defaults={"scale_ratio": 1.0, "apply_least_squares": False, "midpoint_fraction": 1.0},
    ),
)


def check(step: dict[str, Any], block: BlockSpec, where: str) -> None:
    vertices = literal(step, "required_number_of_vertices")
    if vertices is not None and (not isinstance(vertices, int) or vertices < 1):
        raise WorkflowInvalid(f"{where}: required_number_of_vertices must be a positive whole number")
