"""Runs a compiled workflow (``shared.workflows.compiler``) on images, with the built-in core blocks."""

from __future__ import annotations

from typing import Any

import numpy as np

from shared.workflows.compiler import SELECTOR, CompiledWorkflow
from shared.workflows.errors import WorkflowInvalid
from worker_svc.workflows.blocks import ModelProvider, run_block
from worker_svc.workflows.values import Image


class WorkflowRunner:
    """Runs a compiled workflow on one image at a time (model calls release the GIL)."""

    def __init__(self, workflow: CompiledWorkflow, models: ModelProvider, parameters: dict[str, Any]) -> None:
        self.workflow = workflow
        self.models = models
        unknown = set(parameters) - set(workflow.parameters) - {workflow.image_input}
        if unknown:
            raise WorkflowInvalid(f"unknown workflow parameters: {sorted(unknown)}")
        self.parameters = {**workflow.parameters, **parameters}

    def run(self, image_bgr: np.ndarray, parent_id: str = "image",
            overrides: dict[str, Any] | None = None) -> dict[str, Any]:
        """Outputs for one image; ``overrides`` are this image's own parameter values (from its metadata)."""
        image = Image(image_bgr, parent_id=parent_id)
        values = {**self.parameters, **overrides} if overrides else self.parameters
        results: dict[str, dict[str, Any]] = {}
        for step in self.workflow.steps:
            params = dict(step.block.defaults)
            for key, value in step.raw.items():
                if key not in ("type", "name"):
                    params[key] = self._resolve(value, image, results, values)
            results[step.name] = run_block(step.block, self.models, params)
        return {name: self._resolve(sel, image, results, values) for name, sel in self.workflow.outputs}

    def _resolve(self, value: Any, image: Image, results: dict[str, dict[str, Any]], values: dict[str, Any]) -> Any:
        if isinstance(value, list):
            return [self._resolve(v, image, results, values) for v in value]
        if isinstance(value, dict):
            return {k: self._resolve(v, image, results, values) for k, v in value.items()}
        if not (isinstance(value, str) and value.startswith("$")):
            return value
        scope, name, prop = SELECTOR.match(value).groups()  # type: ignore[union-attr]
        if scope == "inputs":
            return image if name == self.workflow.image_input else values.get(name)
        return results[name] if prop == "*" else results[name][prop]
