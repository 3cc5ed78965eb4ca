"""The workflow plan a deployment's backend works from: the built-in compiler's, or an outline that leaves the
blocks to Roboflow's Workflows Execution Engine."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

from shared.workflows.compiler import compile_workflow
from shared.workflows.outline import outline_workflow
from shared.workflows.shape import check_shape


class WorkflowPlan(Protocol):
    @property
    def image_input(self) -> str: ...

    @property
    def parameters(self) -> dict[str, Any]: ...

    def model_ids(self, runtime: dict[str, Any]) -> set[str]: ...

    def image_outputs(self) -> list[str]: ...

    def required_inputs(self) -> dict[str, str]: ...


# Roboflow's inferenceBackend values, as its client sends them, and the executor each selects here: Roboflow's own
# Workflows Execution Engine (the inference package) for "old-inference", Conveyor's built-in blocks on its own
# model runtime for "inference-models"
INFERENCE_BACKENDS: dict[str, str] = {"old-inference": "inference", "inference-models": "builtin"}


def plan_workflow(definition: Any, backend: str) -> WorkflowPlan:
    """Raises WorkflowInvalid with the reason when the backend could not run the definition."""
    check_shape(definition.get("specification", definition) if isinstance(definition, dict) else definition)
    if backend == "inference":
        return outline_workflow(definition)
    return compile_workflow(definition)


def check_workflow(definition: Any, backend: str, inference_python: Path) -> WorkflowPlan:
    """``plan_workflow`` plus, for the engine backend, a compilation by the engine itself (every block's
    manifest and every selector): blocking, so call it in a thread."""
    plan = plan_workflow(definition, backend)
    if backend == "inference":
        from shared.workflows.roboflow_engine import check_with_engine

        spec = definition.get("specification", definition) if isinstance(definition, dict) else definition
        check_with_engine(inference_python, spec)
    return plan
