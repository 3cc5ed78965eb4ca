"""Roboflow's ``roboflow_core/reference_path_visualization@v1``."""

from __future__ import annotations

from typing import Any

from shared.workflows.blockspec import BlockSpec, literal, types_of
from shared.workflows.errors import WorkflowInvalid

SPECS = (
    BlockSpec(
        types=types_of("reference_path_visualization", (1,)),
        params={
            "image": "image",
            "copy_image": "value",
            "reference_path": "value",
            "color": "value",
            "thickness": "value",
        },
        required=("image", "reference_path"),
        outputs=("image",),
        defaults={"copy_image": True, "color": "#5bb573", "thickness": 2},
        aliases={"images": "image"},
    ),
)


def check(step: dict[str, Any], block: BlockSpec, where: str) -> None:
    thickness = literal(step, "thickness")
    if isinstance(thickness, int) and thickness <= 0:
        raise WorkflowInvalid(f"{where}: thickness must be greater than zero")
