"""Runs a compiled workflow (``shared.workflows.compiler``) on images, with the built-in core blocks."""

from __future__ import annotations

from typing import Any

import numpy as np

from shared.workflows.compiler import SELECTOR, CompiledWorkflow, Step
from shared.workflows.errors import WorkflowInvalid, WorkflowRunFailed
from worker_svc.workflows.blocks import CONTINUE, ModelProvider, run_block
from worker_svc.workflows.values import Batch, Detections, Image
from worker_svc.workflows.video_state import VideoFrame, still_image


class _Skipped:
    """The value of anything a step that did not run would have produced (its branch was stopped)."""


SKIPPED = _Skipped()


class WorkflowRunner:
    """Runs a compiled workflow on one image at a time (model calls release the GIL)."""

    def __init__(self, workflow: CompiledWorkflow, models: ModelProvider, parameters: dict[str, Any]) -> None:
        self.workflow = workflow
        self.models = models
        unknown = set(parameters) - set(workflow.parameters) - {workflow.image_input}
        if unknown:
            raise WorkflowInvalid(f"unknown workflow parameters: {sorted(unknown)}")
        self.parameters = {**workflow.parameters, **parameters}
        # what ``$steps.<name>.*`` selects: the outputs the step's block version declares, as Roboflow's engine
        # gives them (a run function may compute more, e.g. the model id that only later versions output)
        self._declared = {s.name: tuple(s.block.outputs_of(s.raw)) for s in workflow.steps}

    def run(self, image_bgr: np.ndarray, parent_id: str = "image", overrides: dict[str, Any] | None = None, *,
            scale: int = 1, full_size: tuple[int, int] | None = None,
            frame: VideoFrame | None = None) -> dict[str, Any]:
        """Outputs for one image; ``overrides`` are this image's own parameter values (from its metadata).

        A block that fails on this image raises ``WorkflowRunFailed`` with the step and the reason: the image
        is recorded as failed, the task goes on. Outputs of steps that did not run (``continue_if``) are None.
        An image decoded smaller (``scale`` > 1, only for workflows whose models alone see it) gives results
        in the coordinates of its ``full_size``. A video's frames come with their ``frame`` (its metadata, and the
        state stateful blocks keep for that video); a still image is a video of one frame.
        """
        frame = frame or still_image(parent_id)
        image = Image(image_bgr, parent_id=parent_id, scale=scale, full_size=full_size, video=frame.metadata)
        values = {**self.parameters, **overrides} if overrides else self.parameters
        if self.workflow.io.video_metadata:
            values = {**values, **dict.fromkeys(self.workflow.io.video_metadata, frame.metadata)}
        results: dict[str, dict[str, Any] | _Skipped] = {}
        for step in self.workflow.steps:
            try:
                results[step.name] = self._run_step(step, image, results, values, frame)
            except WorkflowRunFailed:
                raise
            except Exception as exc:
                raise WorkflowRunFailed(f"step {step.name!r} ({step.raw['type']}): {exc}") from exc
        return {name: value if name in self.workflow.own_coordinates else in_input_image(value)
                for name, sel in self.workflow.outputs
                for value in [self._output(sel, image, results, values)]}

    def _output(self, selector: str, image: Image, results: dict[str, dict[str, Any] | _Skipped],
                values: dict[str, Any]) -> Any:
        value = self._resolve(selector, image, results, values)
        scope, name, prop = SELECTOR.match(selector).groups()  # type: ignore[union-attr]
        if value is not SKIPPED:
            # a wildcard of a step run per crop gives, as in Roboflow's engine, one dict of outputs per crop
            return _per_element(value) if prop == "*" and self.workflow.dimensions.get(name, 1) > 1 else value
        # a step that did not run, answered as Roboflow's engine answers: no values of a nested dimension (no
        # crops were made), or each of its outputs empty for a wildcard
        if scope == "steps" and self.workflow.dimensions.get(name, 1) > 1:
            return []
        return dict.fromkeys(self._declared[name]) if scope == "steps" and prop == "*" else None

    def _run_step(self, step: Step, image: Image, results: dict[str, dict[str, Any] | _Skipped],
                  values: dict[str, Any], frame: VideoFrame) -> dict[str, Any] | _Skipped:
        params = dict(step.block.defaults)
        for key, value in step.raw.items():
            if key in ("type", "name"):
                continue
            if step.block.params.get(key) == "steps":
                params[key] = value  # the steps it decides on: names, not values
                continue
            params[key] = self._resolve(value, image, results, values)
            if _contains(params[key], SKIPPED):
                if not step.block.takes_skipped:
                    return SKIPPED  # fed by a step that did not run: neither does this one
                params[key] = _replace(params[key], SKIPPED, None)
        for gate in step.gates:
            decision = results[gate]
            if isinstance(decision, _Skipped):
                return SKIPPED
            if not _gate(params, decision[CONTINUE]):
                return SKIPPED
        if step.block.keeps_state(params):
            return run_block(step.block, self.models, params, frame, frame.of_step(step.name))
        return run_block(step.block, self.models, params)

    def _resolve(self, value: Any, image: Image, results: dict[str, dict[str, Any] | _Skipped],
                 values: dict[str, Any]) -> Any:
        if isinstance(value, list):
            return [self._resolve(v, image, results, values) for v in value]
        if isinstance(value, dict):
            return {k: self._resolve(v, image, results, values) for k, v in value.items()}
        if not (isinstance(value, str) and value.startswith("$")):
            return value
        scope, name, prop = SELECTOR.match(value).groups()  # type: ignore[union-attr]
        if scope == "inputs":
            return image if name == self.workflow.image_input else values.get(name)
        result = results[name]
        if isinstance(result, _Skipped):
            return SKIPPED
        if prop == "*":
            return {k: v for k, v in result.items() if k in self._declared[name]}
        return result[prop]


def _per_element(outputs: dict[str, Any]) -> Any:
    """Outputs of a nested dimension (each a Batch, one value per crop) as a Batch of dicts (one per crop), nested
    as deep as the Batches are."""
    if not outputs or not all(isinstance(v, Batch) for v in outputs.values()):
        return outputs
    count = len(next(iter(outputs.values())))
    return Batch(_per_element({k: v[i] for k, v in outputs.items()}) for i in range(count))


def in_input_image(value: Any) -> Any:
    """Every set of detections in the value in the input image's coordinates (detections found on crops moved
    back onto the input image), as Roboflow's engine outputs them by default."""
    if isinstance(value, Detections):
        return value.in_input_image()
    if isinstance(value, list):  # a Batch stays a Batch
        return type(value)(in_input_image(v) for v in value)
    if isinstance(value, dict):
        return {k: in_input_image(v) for k, v in value.items()}
    return value


def _contains(value: Any, marker: object) -> bool:
    if value is marker:
        return True
    if isinstance(value, dict):
        return any(_contains(v, marker) for v in value.values())
    if isinstance(value, list) and not isinstance(value, Batch):
        return any(_contains(v, marker) for v in value)
    return False


def _replace(value: Any, marker: object, by: Any) -> Any:
    if value is marker:
        return by
    if isinstance(value, dict):
        return {k: _replace(v, marker, by) for k, v in value.items()}
    if isinstance(value, list) and not isinstance(value, Batch):
        return [_replace(v, marker, by) for v in value]
    return value


def _gate(params: dict[str, Any], decision: bool | Batch) -> bool:
    """Apply a ``continue_if`` decision: one for the image, or one per element (crop), in which case the
    elements it stops become None in this step's per-element inputs (and give None)."""
    if not isinstance(decision, Batch):
        return bool(decision)
    gated = False
    for key, value in params.items():
        if isinstance(value, Batch) and len(value) == len(decision):
            params[key] = Batch(v if keep else None for v, keep in zip(value, decision, strict=True))
            gated = True
    return gated or any(bool(keep) for keep in decision)
