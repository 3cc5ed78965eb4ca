"""Roboflow's ``roboflow_core/expression@v1``."""

from __future__ import annotations

from typing import Any

from shared.workflows import uql
from shared.workflows.blockspec import BlockSpec, types_of
from shared.workflows.errors import WorkflowInvalid

SPECS = (
    BlockSpec(
        types=types_of("expression", (1,), "Expression"),
        params={"data": "selectors", "data_operations": "value", "switch": "value"},
        required=("data", "switch"),
        outputs=("output",),
        defaults={"data_operations": {}},
    ),
)


def check(step: dict[str, Any], block: BlockSpec, where: str) -> None:
    operations = step.get("data_operations") or {}
    if not isinstance(operations, dict):
        raise WorkflowInvalid(f"{where}: data_operations must map data names to operations")
    for variable, chain in operations.items():
        if variable not in step["data"]:
            raise WorkflowInvalid(f"{where}: data_operations names {variable!r}, which is not in data")
        uql.check_operations(chain, f"{where} data_operations.{variable}")
    switch = step["switch"]
    if not isinstance(switch, dict) or not isinstance(switch.get("cases"), list) or "default" not in switch:
        raise WorkflowInvalid(f"{where}: switch must be a CasesDefinition with 'cases' and a 'default'")
    for case in switch["cases"]:
        if not isinstance(case, dict) or "condition" not in case or "result" not in case:
            raise WorkflowInvalid(f"{where}: every case needs a condition and a result")
        uql.check_statement(case["condition"], f"{where} case")
        _check_result(case["result"], step["data"], where)
    _check_result(switch["default"], step["data"], where)


def _check_result(result: Any, data: dict[str, Any], where: str) -> None:
    kind = result.get("type") if isinstance(result, dict) else None
    if kind == "StaticCaseResult":
        if "value" not in result:
            raise WorkflowInvalid(f"{where}: a StaticCaseResult needs a 'value'")
    elif kind == "DynamicCaseResult":
        if result.get("parameter_name") not in data:
            raise WorkflowInvalid(
                f"{where}: a DynamicCaseResult names {result.get('parameter_name')!r}, which is not in data"
            )
        uql.check_operations(result.get("operations", []), where)
    else:
        raise WorkflowInvalid(f"{where}: a case result must be a StaticCaseResult or a DynamicCaseResult")
