"""Compile a Roboflow Workflow definition against the built-in executor's block catalogue.

A definition is ``{"version", "inputs", "steps", "outputs"}``: exactly one image input
(``WorkflowImage``), any number of parameters (``WorkflowParameter`` with ``default_value``), steps that
reference inputs and other steps through selectors (``$inputs.name``, ``$steps.step.output``), and
outputs (``JsonField`` with a ``selector``). Compilation checks everything a run would trip over, so a
bad workflow is a 4xx when it is saved, never a failure halfway through a job. The worker runs the result
(``worker_svc.workflows.runner``).
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from graphlib import CycleError, TopologicalSorter
from typing import Any

from shared.workflows.catalogue import BY_TYPE, BlockSpec, canonical_params, check_block_params
from shared.workflows.errors import BuiltinLacks, WorkflowInvalid
from shared.workflows.kinds import check_connection
from shared.workflows.lineage import check_lineage
from shared.workflows.outline import BLOCKED, WorkflowIO, parse_io, required_inputs

__all__ = ["SELECTOR", "CompiledWorkflow", "WorkflowInvalid", "compile_workflow"]

SELECTOR = re.compile(r"^\$(inputs|steps)\.([A-Za-z0-9_\-]+)(?:\.([A-Za-z0-9_\-*]+))?$")


@dataclass(frozen=True)
class Step:
    name: str
    block: BlockSpec
    raw: dict[str, Any]  # parameters under their canonical names
    gates: tuple[str, ...] = ()  # the flow-control steps that decide whether this step runs


@dataclass(frozen=True)
class CompiledWorkflow:
    steps: list[Step]
    outputs: list[tuple[str, str]]  # (name, selector)
    io: WorkflowIO
    # each step's dimension: 1 per image, 2 per crop, 3 per crop of a crop
    dimensions: dict[str, int] = dataclasses.field(default_factory=dict)
    # outputs whose detections stay in the coordinates of the image they were found on (coordinates_system
    # "own"); the others are given in the input image's, Roboflow's default ("parent")
    own_coordinates: frozenset[str] = frozenset()

    @property
    def image_input(self) -> str:
        return self.io.image_input

    @property
    def parameters(self) -> dict[str, Any]:
        return self.io.parameters

    def required_inputs(self) -> dict[str, str]:
        required = {s.name: s.block.required for s in self.steps}
        return required_inputs(self.io, [s.raw for s in self.steps], lambda raw: required[raw["name"]])

    def model_ids(self, runtime: dict[str, Any]) -> set[str]:
        found = set()
        for step in self.steps:
            value = step.raw.get("model_id")
            if isinstance(value, str) and value.startswith("$inputs."):
                value = {**self.parameters, **runtime}.get(value.split(".", 1)[1])
            if isinstance(value, str) and "model_id" in step.block.params:
                found.add(value)
        return found

    def image_outputs(self) -> list[str]:
        """Outputs that carry images (visualisations, crops)."""
        produces_images = {s.name for s in self.steps if "image" in s.block.outputs or "crops" in s.block.outputs}
        out = []
        for name, selector in self.outputs:
            m = SELECTOR.match(selector)
            if m and ((m.group(1) == "steps" and m.group(2) in produces_images and m.group(3) in ("image", "crops"))
                      or (m.group(1) == "inputs" and m.group(2) == self.image_input)):
                out.append(name)
        return out


def compile_workflow(definition: Any) -> CompiledWorkflow:
    io = parse_io(definition)
    definition, image, parameters = io.definition, io.image_input, io.parameters
    steps: dict[str, Step] = {}
    for raw in definition.get("steps") or []:
        if not isinstance(raw, dict) or not raw.get("name") or not raw.get("type"):
            raise WorkflowInvalid("every step needs a name and a type")
        kind, name = raw["type"], raw["name"]
        if kind in BLOCKED:
            raise WorkflowInvalid(f"step {name!r}: block {kind} is blocked: {BLOCKED[kind]}")
        block = BY_TYPE.get(kind)
        if block is None:
            raise BuiltinLacks(f"step {name!r}: unknown block {kind!r}; supported blocks: "
                                  + ", ".join(sorted(t for t in BY_TYPE if "/" in t)))
        if name in steps:
            raise WorkflowInvalid(f"two steps are named {name!r}")
        params = canonical_params(raw, block)
        check_block_params(params, block)
        steps[name] = Step(name, block, params)
    graph: dict[str, set[str]] = {}
    gates: dict[str, list[str]] = {}
    for step in steps.values():
        deps = set()
        for key, value in step.raw.items():
            if key in ("type", "name"):
                continue
            where = f"step {step.name!r} parameter {key!r}"
            if step.block.params.get(key) == "steps":
                for target in _step_targets(value, where, steps):
                    gates.setdefault(target, []).append(step.name)
                continue
            if step.block.params.get(key) == "metadata" and not (
                    isinstance(value, str) and value.removeprefix("$inputs.") in io.video_metadata):
                raise WorkflowInvalid(f"{where} must select a WorkflowVideoMetadata input, not {value!r}")
            names = [key, *step.block.aliases_of(key)]
            for selector in _selectors(value):
                deps |= _check_selector(selector, where, image, parameters, steps, io.video_metadata)
                _, source, output = SELECTOR.match(selector).groups()  # type: ignore[union-attr]
                if selector.startswith("$steps.") and output is not None:
                    check_connection(where, step.raw["type"], names, steps[source].raw["type"], output, selector)
        graph[step.name] = deps
    for target, deciders in gates.items():
        graph[target] |= set(deciders)
    try:
        order = list(TopologicalSorter(graph).static_order())
    except CycleError as exc:
        raise WorkflowInvalid(f"steps reference each other in a cycle: {exc.args[1]}") from None
    dimensions = _check_dimensions(order, steps, graph)
    check_lineage(order, steps, {image, *io.batch_inputs, *io.video_metadata}, gates, _selectors)
    outputs: list[tuple[str, str]] = []
    for out in definition.get("outputs") or []:
        if not isinstance(out, dict) or not out.get("name") or not isinstance(out.get("selector"), str):
            raise WorkflowInvalid("every output needs a name and a selector")
        if any(out["name"] == existing for existing, _ in outputs):
            raise WorkflowInvalid(f"two outputs are named {out['name']!r}")
        _check_selector(out["selector"], f"output {out['name']!r}", image, parameters, steps, io.video_metadata)
        if out.get("coordinates_system", "parent") not in ("own", "parent"):
            raise WorkflowInvalid(f"output {out['name']!r}: coordinates_system is 'own' or 'parent', not "
                                  f"{out['coordinates_system']!r}")
        outputs.append((out["name"], out["selector"]))
    if not outputs:
        raise WorkflowInvalid("the workflow declares no outputs")
    ordered = [dataclasses.replace(steps[n], gates=tuple(gates.get(n, ()))) for n in order]
    own = frozenset(o["name"] for o in definition["outputs"] if o.get("coordinates_system") == "own")
    return CompiledWorkflow(ordered, outputs, io, dimensions, own)


def _step_targets(value: Any, where: str, steps: dict[str, Step]) -> list[str]:
    targets = []
    for selector in value if isinstance(value, list) else [value]:
        m = SELECTOR.match(selector) if isinstance(selector, str) else None
        if not m or m.group(1) != "steps" or m.group(3) is not None:
            raise WorkflowInvalid(f"{where}: {selector!r} is not a step selector ($steps.<name>)")
        if m.group(2) not in steps:
            raise WorkflowInvalid(f"{where}: no step named {m.group(2)!r}")
        targets.append(m.group(2))
    return targets


def _check_dimensions(order: list[str], steps: dict[str, Step], graph: dict[str, set[str]]) -> dict[str, int]:
    """Per image (1) or per element of a nested batch, e.g. one per crop (2): a block that collapses a dimension
    needs a nested input, and nothing goes deeper than crops of crops."""
    dims: dict[str, int] = {}
    for name in order:
        step = steps[name]
        inputs = [dims[d] for d in graph[name] if d in dims and not steps[d].block.flow_control] or [1]
        dim = max(inputs) + step.block.dimension
        if dim < 1:
            raise WorkflowInvalid(f"step {name!r} ({step.raw['type']}) collapses a dimension its input does not "
                                  "have: its data must be one value per crop, not per image")
        if dim > 3:
            raise WorkflowInvalid(f"step {name!r}: crops nested deeper than crops of crops are not supported")
        if step.block.keeps_state(step.raw) and dim > 1:
            raise WorkflowInvalid(f"step {name!r} ({step.raw['type']}) keeps state from frame to frame of a video; "
                                  "it runs on the whole frame's values, not once per crop")
        dims[name] = dim
    return dims


def _selectors(value: Any) -> list[str]:
    if isinstance(value, str) and value.startswith("$"):
        return [value]
    if isinstance(value, list):
        return [s for v in value for s in _selectors(v)]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _selectors(v)]
    return []


def _check_selector(selector: str, where: str, image: str, parameters: dict[str, Any],
                    steps: dict[str, Step], video_metadata: frozenset[str] = frozenset()) -> set[str]:
    m = SELECTOR.match(selector)
    if not m:
        raise WorkflowInvalid(f"{where}: malformed selector {selector!r}")
    scope, name, prop = m.groups()
    if scope == "inputs":
        if name != image and name not in parameters and name not in video_metadata:
            raise WorkflowInvalid(f"{where}: no input named {name!r}")
        return set()
    if name not in steps:
        raise WorkflowInvalid(f"{where}: no step named {name!r}")
    if prop is None and steps[name].block.flow_control:
        raise WorkflowInvalid(f"{where}: step {name!r} decides which steps run; it has no outputs to select")
    outputs = steps[name].block.outputs_of(steps[name].raw)
    if prop not in (*outputs, "*"):
        raise WorkflowInvalid(f"{where}: step {name!r} has no output {prop!r} (it has {outputs})")
    return {name}
