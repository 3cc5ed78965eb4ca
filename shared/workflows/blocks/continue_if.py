"""Roboflow's ``roboflow_core/continue_if@v1``."""

from __future__ import annotations

from typing import Any

from shared.workflows import uql
from shared.workflows.blockspec import BlockSpec, types_of
from shared.workflows.errors import WorkflowInvalid

SPECS = (
    BlockSpec(
        types=types_of("continue_if", (1,), "ContinueIf"),
        params={
            "condition_statement": "value",
            "evaluation_parameters": "selectors",
            "next_steps": "steps",
            "stop_delay": "value",
        },
        required=("condition_statement", "next_steps"),
        outputs=(),
        defaults={"evaluation_parameters": {}, "stop_delay": 0},
        flow_control=True,
        stateful_when="stop_delay",
    ),
)


def check(step: dict[str, Any], block: BlockSpec, where: str) -> None:
    uql.check_statement(step["condition_statement"], where)
    if not isinstance(step["next_steps"], list):
        raise WorkflowInvalid(f"{where}: next_steps must be a list of step selectors")
    delay = step.get("stop_delay", 0)
    if isinstance(delay, int | float) and delay < 0:
        raise WorkflowInvalid(f"{where}: stop_delay must not be negative")
