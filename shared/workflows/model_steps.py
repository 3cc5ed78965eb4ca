"""The steps of a definition that load a model, read from the definition itself (either backend): which model
id each names (a literal, or the workflow parameter an ``$inputs.`` selector names) and which kind of model
its block runs, so a job is refused when created, not file by file, if an alias points at the wrong kind."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shared.workflows.errors import WorkflowInvalid

# the model task a Roboflow model block runs, by a part of its type name (roboflow_core/..._model@vN, and the
# older CamelCase names); the multi-label and segmentation names first, as they contain the others
_TASKS = (("multi_label_classification", "multi-label-classification"),
          ("multilabelclassification", "multi-label-classification"),
          ("instance_segmentation", "instance-segmentation"), ("instancesegmentation", "instance-segmentation"),
          ("keypoint_detection", "keypoint-detection"), ("keypointsdetection", "keypoint-detection"),
          ("keypointdetection", "keypoint-detection"),
          ("classification_model", "classification"), ("classificationmodel", "classification"),
          ("object_detection_model", "object-detection"), ("objectdetectionmodel", "object-detection"))


@dataclass(frozen=True)
class ModelStep:
    step: str
    block: str
    model_id: str
    task: str | None  # the kind of model the block runs; None for a block that is not one of Roboflow's model blocks


def task_of(block_type: str) -> str | None:
    name = block_type.lower()
    return next((task for part, task in _TASKS if part in name), None)


# the model blocks that take no model id and read with Conveyor's OCR model, on either executor
OCR_BLOCKS = frozenset({"roboflow_core/ocr_model@v1", "roboflow_core/pp_ocr@v1", "OCRModel"})


def unservable_steps(definition: dict[str, Any]) -> list[tuple[str, str]]:
    """(step, block) of each step that needs a model no registered model can be: Roboflow's foundation models
    (Florence-2, CLIP, SAM, YOLO-World, VLMs, depth), and model kinds Conveyor does not register (semantic
    segmentation, anomaly detection, embeddings, action recognition). Such a step would fail on every file."""
    from shared.workflows.kinds import runs_models

    spec = definition.get("specification", definition)
    return [(str(step.get("name")), str(step.get("type"))) for step in spec.get("steps", [])
            if isinstance(step, dict) and runs_models(str(step.get("type")))
            and task_of(str(step.get("type"))) is None and step.get("type") not in OCR_BLOCKS]


def check_servable(definition: dict[str, Any]) -> None:
    """Raise WorkflowInvalid naming the first step that needs a model the registry cannot serve."""
    for step, block in unservable_steps(definition):
        raise WorkflowInvalid(
            f"step {step!r} ({block}) runs a model that Conveyor's registry cannot serve: it registers object "
            f"detection, instance segmentation, keypoint detection and (multi-label) classification ONNX models and "
            f"reads text with its OCR model, and runs no foundation model or Roboflow-hosted weights")


def model_steps(definition: dict[str, Any], parameters: dict[str, Any]) -> list[ModelStep]:
    """Every step with a ``model_id``, its value resolved with the job's ``parameters`` (and the inputs'
    defaults). A model id taken from another step's output is refused: models are resolved (registered ids,
    aliases) when the job is created, before any step has run."""
    spec = definition.get("specification", definition)
    values: dict[str, Any] = {str(i.get("name")): i.get("default_value") for i in spec.get("inputs", [])
                              if isinstance(i, dict)}
    values.update(parameters)
    found = []
    for step in spec.get("steps", []):
        value = step.get("model_id")
        if isinstance(value, str) and value.startswith("$inputs."):
            value = values.get(value.split(".", 1)[1])
        if not isinstance(value, str):
            continue
        if value.startswith("$"):
            raise WorkflowInvalid(
                f"step {step.get('name')!r} takes its model_id from {value}, known only while the workflow runs: "
                f"Conveyor loads a job's models (registered ids and aliases) when the job is created. Give the "
                f"model id as a workflow input instead (model_id: $inputs.<name>, set in workflowParameters)")
        found.append(ModelStep(str(step.get("name")), str(step.get("type")), value, task_of(str(step.get("type")))))
    return found
