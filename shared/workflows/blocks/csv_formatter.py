"""Roboflow's ``roboflow_core/csv_formatter@v1``. Each image's own row (a batch job runs images one by one)."""

from __future__ import annotations

from typing import Any

from shared.workflows import uql
from shared.workflows.blockspec import BlockSpec, types_of
from shared.workflows.errors import WorkflowInvalid

SPECS = (
    BlockSpec(
        types=types_of("csv_formatter", (1,)),
        params={"columns_data": "selectors", "columns_operations": "value"},
        required=("columns_data",),
        outputs=("csv_content",),
        defaults={"columns_operations": {}},
    ),
)


def check(step: dict[str, Any], block: BlockSpec, where: str) -> None:
    columns, operations = step["columns_data"], step.get("columns_operations", {})
    if not isinstance(operations, dict):
        raise WorkflowInvalid(f"{where}: columns_operations must map column names to operations")
    if "timestamp" in columns or "timestamp" in operations:
        raise WorkflowInvalid(f"{where}: timestamp is a reserved column (the time each row is written)")
    for column, chain in operations.items():
        if column not in columns:
            raise WorkflowInvalid(f"{where}: columns_operations names {column!r}, which is not in columns_data")
        uql.check_operations(chain, f"{where} columns_operations.{column}")
