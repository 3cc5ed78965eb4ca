"""What the block does: the first case whose condition holds over its data (UQL), else the default."""

from __future__ import annotations

from typing import Any

from worker_svc.workflows import uql
from worker_svc.workflows.blocks import ModelProvider


def run(_: ModelProvider, p: dict[str, Any]) -> dict[str, Any]:
    variables = dict(p["data"])
    for name, operations in p["data_operations"].items():
        variables[name] = uql.apply(operations, variables[name], {})
    switch = p["switch"]
    chosen = next(
        (case["result"] for case in switch["cases"] if uql.evaluate(case["condition"], variables)), switch["default"]
    )
    if chosen["type"] == "StaticCaseResult":
        return {"output": chosen["value"]}
    return {"output": uql.apply(chosen.get("operations", []), variables[chosen["parameter_name"]], variables)}
