"""Roboflow's ``roboflow_core/json_parser@v1``."""

from __future__ import annotations

from typing import Any

from shared.workflows.blockspec import BlockSpec, types_of
from shared.workflows.errors import WorkflowInvalid

SPECS = (
    BlockSpec(
        types=types_of("json_parser", (1,)),
        params={"raw_json": "data", "expected_fields": "value"},
        required=("raw_json", "expected_fields"),
        outputs=("error_status",),
        outputs_from="expected_fields",
    ),
)


def check(step: dict[str, Any], block: BlockSpec, where: str) -> None:
    fields = step["expected_fields"]
    if not isinstance(fields, list) or not all(isinstance(f, str) for f in fields):
        raise WorkflowInvalid(f"{where}: expected_fields must be a list of field names")
    if "error_status" in fields:
        raise WorkflowInvalid(f"{where}: error_status is a reserved field name and cannot be in expected_fields")
