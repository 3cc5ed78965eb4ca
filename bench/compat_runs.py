"""One executor's way through one definition, as a user would take it: saved unchanged, a job created, every file
processed. Shared by ``bench.compat`` (how far each executor gets) and ``bench.fidelity`` (whether the answers are
Roboflow's).

Saving is the API's check (the built-in compiler, or Roboflow's engine compiling it); creating a job is the
scheduler's check (a value for every input that needs one, of the declared type, and a registered model of the
task each model step runs: every Roboflow model id is mapped to one of the kit's, as a user's aliases would); a run
is the worker's, on the sample photos, through the built-in runner or the engine host with the same models.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from bench.fidelity_models import ModelKit
from scheduler_svc.default_model import sample_photos
from scheduler_svc.job_workflow import check_inputs_given
from shared.workflows.errors import BuiltinLacks, WorkflowInvalid
from shared.workflows.model_steps import ModelStep, model_steps
from shared.workflows.outline import check_parameter_values
from shared.workflows.plans import WorkflowPlan, plan_workflow
from worker_svc.workflows.engine_client import EngineHost
from worker_svc.workflows.runner import WorkflowRunner
from worker_svc.workflows.values import EncodedImage, Image, serialize

DEFAULT_IMAGES = ("bus.jpg", "zidane.jpg")
STAGES = ("refused", "saved", "job-valid", "processed")
# values a user would give for the workflow parameters a definition leaves without a default (Roboflow's tests pass
# them at run time); an input not named here, or per image (WorkflowBatchInput), leaves the definition job-less
FILLERS: dict[str, Any] = {"confidence": 0.4, "iou_threshold": 0.3, "classes": ["person", "car", "bus"],
                           "class_filter": ["person", "bus"], "threshold": 0.5, "reference": 1,
                           "api_key": "the-users-key", "overlap_filtering_strategy": "nms", "x_center": 200,
                           "classes_to_consider": ["person"], "class_map": {"person": "human"}}


@dataclass
class Side:
    """How far one executor got: ``stage`` is the last one passed; ``reason`` why it got no further."""
    executor: str  # builtin | engine
    stage: str = "refused"
    reason: str = ""
    answers: dict[str, Any] = field(default_factory=dict)  # image -> what the run gave, as written to results
    failures: dict[str, str] = field(default_factory=dict)  # image -> why its run failed
    # refused for a block it lacks, not for a fault of the definition: the API then asks the other executor
    lacks: bool = False

    def reached(self, stage: str) -> bool:
        return STAGES.index(self.stage) >= STAGES.index(stage)


def sample_images(names: list[str] | tuple[str, ...] = DEFAULT_IMAGES) -> dict[str, np.ndarray]:
    """The photos that ship with the default model, decoded (BGR)."""
    found: dict[str, np.ndarray] = {}
    for path in sample_photos():
        if path.name in names:
            pixels = cv2.imread(str(path))
            if pixels is None:
                raise ValueError(f"cannot decode {path}")
            found[path.name] = pixels
    return found


def parameters_for(spec: dict[str, Any], kit: ModelKit) -> dict[str, Any] | str:
    """Values for the inputs without a default, or why the definition cannot be given them."""
    values: dict[str, Any] = {}
    model_inputs = {str(s["model_id"]).split(".", 1)[1]: s for s in spec.get("steps", [])
                    if isinstance(s, dict) and str(s.get("model_id", "")).startswith("$inputs.")}
    for item in spec.get("inputs", []):
        name = item.get("name")
        if item.get("type") in ("WorkflowImage", "InferenceImage", "WorkflowVideoMetadata") \
                or "default_value" in item:
            continue
        if name in model_inputs:
            values[name] = kit.id_for(str(model_inputs[name].get("type")))
        elif name in FILLERS and item.get("type") != "WorkflowBatchInput":
            values[name] = FILLERS[name]
        else:
            return f"needs a value for the input {name!r}, which it gives no default"
    return values


def job_check(spec: dict[str, Any], plan: WorkflowPlan, kit: ModelKit) -> tuple[dict[str, Any], list[ModelStep]]:
    """The job's parameters and model steps, as the scheduler checks them when a job is created; raises
    WorkflowInvalid (or ValueError for a model the registry cannot stand for) with the reason."""
    parameters = parameters_for(spec, kit)
    if isinstance(parameters, str):
        raise WorkflowInvalid(parameters)
    check_parameter_values(spec, parameters)
    check_inputs_given(spec, plan, set(parameters))
    steps = model_steps(spec, parameters)
    kit.files_for(steps)  # every model step has a model of its task, or ValueError
    return parameters, steps


def builtin_way(spec: dict[str, Any], kit: ModelKit, images: dict[str, np.ndarray], *, run: bool = True) -> Side:
    side = Side("builtin")
    checked = _saved_and_job_checked(side, spec, kit, lambda: plan_workflow(spec, "builtin"))
    if checked is None or not run:
        return side
    plan, parameters, steps = checked
    runner = WorkflowRunner(plan, kit.loaded(kit.models_for(steps)), parameters)  # type: ignore[arg-type]
    for name, pixels in images.items():
        try:
            side.answers[name] = exported(serialize(runner.run(pixels.copy(), name), on_image=as_pixels))
        except Exception as exc:  # a block failing is a result to report, whichever it is
            side.failures[name] = f"the built-in executor failed on {name}: {exc}"
    return _ran(side)


def engine_way(spec: dict[str, Any], kit: ModelKit, host: EngineHost, images: dict[str, np.ndarray], *,
               run: bool = True) -> Side:
    from shared.workflows.roboflow_engine import check_with_engine

    def save() -> WorkflowPlan:
        plan = plan_workflow(spec, "inference")
        check_with_engine(Path(host.python), spec)
        return plan

    side = Side("engine")
    checked = _saved_and_job_checked(side, spec, kit, save)
    if checked is None or not run:
        return side
    _, parameters, steps = checked
    try:
        engine = host.load(spec, kit.files_for(steps))
    except WorkflowInvalid as exc:
        side.failures = {name: str(exc) for name in images}
        return _ran(side)
    for name, pixels in images.items():
        try:
            side.answers[name] = from_engine(engine.run(pixels, parameters, name))
        except Exception as exc:
            side.failures[name] = f"Roboflow's engine failed on {name}: {exc}"
    return _ran(side)


def _saved_and_job_checked(side: Side, spec: dict[str, Any], kit: ModelKit, save: Callable[[], WorkflowPlan]
                           ) -> tuple[WorkflowPlan, dict[str, Any], list[ModelStep]] | None:
    """The side through saving (``save``: the API's check on its executor) and a job's creation, or None where it
    stopped (its stage and reason say where and why)."""
    try:
        plan = save()
    except WorkflowInvalid as exc:
        side.reason, side.lacks = str(exc), isinstance(exc, BuiltinLacks)
        return None
    side.stage = "saved"
    try:
        parameters, steps = job_check(spec, plan, kit)
    except (WorkflowInvalid, ValueError) as exc:
        side.reason = str(exc)
        return None
    side.stage = "job-valid"
    return plan, parameters, steps


def _ran(side: Side) -> Side:
    if side.failures:
        side.reason = next(iter(side.failures.values()))
    else:
        side.stage = "processed"
    return side


def as_pixels(value: Any) -> Any:
    """The built-in executor's images as pixels (what the engine's come back as, once decoded)."""
    if isinstance(value, Image):
        return value.array
    if isinstance(value, EncodedImage):
        return cv2.imdecode(np.frombuffer(value.data, np.uint8), cv2.IMREAD_COLOR)
    return None


def exported(value: Any) -> Any:
    """The built-in executor's value as the worker writes it to the results (JSON, anything else as text)."""
    if isinstance(value, np.ndarray):
        return value
    if isinstance(value, dict):
        return {k: exported(v) for k, v in value.items()}
    if isinstance(value, list):
        return [exported(v) for v in value]
    return json.loads(json.dumps(value, default=str))


def from_engine(value: Any) -> Any:
    if isinstance(value, EncodedImage):
        return as_pixels(value)
    if isinstance(value, dict):
        return {k: from_engine(v) for k, v in value.items()}
    if isinstance(value, list):
        return [from_engine(v) for v in value]
    return value
