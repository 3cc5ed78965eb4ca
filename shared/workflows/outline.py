"""What Conveyor needs to know of a workflow, whichever backend runs it: its image input, parameters, the
models its steps name, its outputs. The built-in compiler (``engine.compile_workflow``) adds full block
checks; for the Workflows Execution Engine backend the engine itself compiles the steps."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from shared.workflows.errors import WorkflowInvalid

IMAGE_INPUTS = {"WorkflowImage", "InferenceImage", "WorkflowVideoMetadata"}
PARAMETER_INPUTS = {"WorkflowParameter", "InferenceParameter", "WorkflowBatchInput"}
IMAGE_PROPERTIES = {"image", "crops", "visualization"}
BLOCKED: dict[str, str] = {
    "roboflow_core/local_file_sink@v1": "it writes to the worker's file system",
    "roboflow_core/environment_secrets_store@v1": "it reads the worker's environment secrets",
    "roboflow_core/custom_python@v1": "custom Python code is not allowed",
}
_OUTPUT = re.compile(r"^\$(inputs|steps)\.([A-Za-z0-9_\-]+)(?:\.([A-Za-z0-9_\-*]+))?$")


@dataclass(frozen=True)
class WorkflowIO:
    definition: dict[str, Any]
    image_input: str
    parameters: dict[str, Any]
    batch_inputs: frozenset[str] = frozenset()  # WorkflowBatchInput: one value per image, always required
    video_metadata: frozenset[str] = frozenset()  # WorkflowVideoMetadata: the frame's video, number and time


def parse_io(definition: Any) -> WorkflowIO:
    """The definition's inputs: exactly one image input and named parameters with their defaults."""
    if isinstance(definition, dict) and "specification" in definition:
        definition = definition["specification"]
    if not isinstance(definition, dict):
        raise WorkflowInvalid("a workflow definition must be a JSON object with inputs, steps and outputs")
    if definition.get("dynamic_blocks_definitions"):
        raise WorkflowInvalid("dynamic (custom Python) blocks are not allowed")
    inputs = definition.get("inputs") or []
    images = [str(i.get("name")) for i in inputs if isinstance(i, dict) and i.get("type") in IMAGE_INPUTS
              and i.get("type") != "WorkflowVideoMetadata"]
    if len(images) != 1:
        raise WorkflowInvalid(f"a batch workflow needs exactly one image input, this one has {len(images)}")
    parameters = {}
    names: set[str] = set()
    for i in inputs:
        if not isinstance(i, dict) or not i.get("name"):
            raise WorkflowInvalid("every input needs a name")
        if i["name"] in names:
            raise WorkflowInvalid(f"two inputs are named {i['name']!r}")
        names.add(i["name"])
        if i.get("type") in PARAMETER_INPUTS:
            parameters[i["name"]] = i.get("default_value")
        elif i.get("type") not in IMAGE_INPUTS:
            raise WorkflowInvalid(f"input {i['name']!r} has unsupported type {i.get('type')!r}")
    batch_inputs = frozenset(str(i["name"]) for i in inputs if i.get("type") == "WorkflowBatchInput")
    video_metadata = frozenset(str(i["name"]) for i in inputs if i.get("type") == "WorkflowVideoMetadata")
    return WorkflowIO(definition, images[0], parameters, batch_inputs, video_metadata)


def required_inputs(io: WorkflowIO, steps: list[dict[str, Any]], required_of: Any) -> dict[str, str]:
    """Inputs a job must give a value for (workflow input -> why): batch inputs, and parameters without a
    default that a step needs (``required_of(step) -> its required parameter names``), where Roboflow's engine
    would pass None into the block and fail on every image."""
    needed = {name: "it is a WorkflowBatchInput (one value per image)" for name in io.batch_inputs}
    for step in steps:
        for param in required_of(step):
            value = step.get(param)
            if isinstance(value, str) and value.startswith("$inputs."):
                name = value.split(".", 1)[1]
                if name in io.parameters and io.parameters[name] is None:
                    needed.setdefault(name, f"step {step.get('name')!r} needs it for {param!r} and the input has "
                                            "no default_value")
    return needed


@dataclass(frozen=True)
class WorkflowOutline:
    steps: list[dict[str, Any]]
    outputs: list[tuple[str, str]]
    io: WorkflowIO

    @property
    def image_input(self) -> str:
        return self.io.image_input

    @property
    def parameters(self) -> dict[str, Any]:
        return self.io.parameters

    def required_inputs(self) -> dict[str, str]:
        # the engine knows its blocks; what every model block needs is its model
        return required_inputs(self.io, self.steps, lambda step: ("model_id",))

    def model_ids(self, runtime: dict[str, Any]) -> set[str]:
        values = {**self.parameters, **runtime}
        found = set()
        for step in self.steps:
            value = step.get("model_id")
            if isinstance(value, str) and value.startswith("$inputs."):
                value = values.get(value.split(".", 1)[1])
            if isinstance(value, str):
                found.add(value)
        return found

    def image_outputs(self) -> list[str]:
        out = []
        for name, selector in self.outputs:
            m = _OUTPUT.match(selector)
            if m and ((m.group(1) == "inputs" and m.group(2) == self.image_input)
                      or (m.group(1) == "steps" and m.group(3) in IMAGE_PROPERTIES)):
                out.append(name)
        return out


def outline_workflow(definition: Any) -> WorkflowOutline:
    """Checks every backend needs (inputs, blocked blocks, named steps, outputs) without knowing the blocks."""
    io = parse_io(definition)
    steps = io.definition.get("steps") or []
    for raw in steps:
        if not isinstance(raw, dict) or not raw.get("name") or not raw.get("type"):
            raise WorkflowInvalid("every step needs a name and a type")
        if raw["type"] in BLOCKED:
            raise WorkflowInvalid(f"step {raw['name']!r}: block {raw['type']} is blocked: {BLOCKED[raw['type']]}")
    outputs = []
    for out in io.definition.get("outputs") or []:
        if not isinstance(out, dict) or not out.get("name") or not isinstance(out.get("selector"), str):
            raise WorkflowInvalid("every output needs a name and a selector")
        outputs.append((out["name"], out["selector"]))
    if not outputs:
        raise WorkflowInvalid("the workflow declares no outputs")
    return WorkflowOutline(steps, outputs, io)


# the kinds of Roboflow's workflow parameters that a JSON value can be checked against
_KIND_TYPES: dict[str, tuple[type, ...]] = {
    "float": (int, float), "float_zero_to_one": (int, float), "integer": (int,), "boolean": (bool,),
    "string": (str,), "list_of_values": (list,), "dictionary": (dict,), "roboflow_model_id": (str,),
}


def _accepts(types: tuple[type, ...], value: Any) -> bool:
    if isinstance(value, bool) and bool not in types:
        return False  # JSON true is not a number
    return isinstance(value, types)


def check_parameter_values(definition: Any, values: dict[str, Any]) -> None:
    """Refuse a job's workflowParameters value whose type the input's declared kinds (or, without kinds,
    its default value) rule out: a job must fail at creation, not three attempts into its first task."""
    io = parse_io(definition)
    declared = {i["name"]: i for i in io.definition.get("inputs") or [] if i.get("type") in PARAMETER_INPUTS}
    for name, value in values.items():
        spec = declared.get(name)
        if spec is None or value is None:
            continue
        kinds = [str(k.get("name") if isinstance(k, dict) else k) for k in spec.get("kind") or []]
        if kinds:
            if any(k not in _KIND_TYPES for k in kinds):
                continue  # a kind Conveyor cannot check (or the wildcard): the block decides
            allowed = tuple({t for k in kinds for t in _KIND_TYPES[k]})
            expected = " or ".join(kinds)
        else:
            default = spec.get("default_value")
            if default is None:
                continue
            allowed = (bool,) if isinstance(default, bool) else (int, float) if isinstance(default, int | float) \
                else (type(default),)
            expected = f"{type(default).__name__}, like its default {default!r}"
        if not _accepts(allowed, value):
            raise WorkflowInvalid(f"workflowParameters.{name} is {value!r}; the workflow input {name!r} expects "
                                  f"{expected}")
