"""What a job asks of its workflow, checked when the job is created: the executor it chose can run it, its
parameters, per-image metadata and persisted outputs name real inputs and outputs, the inputs a block needs
have values, every model it names is registered (or an alias of one), and no step needs a model no registered
one can be (a foundation model)."""

from __future__ import annotations

import asyncio
from typing import Any

from scheduler_svc.config import SchedulerSettings
from scheduler_svc.errors import WorkflowModelUnknown, WorkflowNotFound
from scheduler_svc.model_aliases import resolve_model
from scheduler_svc.repository import SchedulerRepository
from scheduler_svc.schemas import JobCreate
from shared.auth import Workspace
from shared.db import Connection, Record
from shared.errors import InvalidInput
from shared.staging import StagingRepository
from shared.workflows.errors import WorkflowInvalid
from shared.workflows.model_steps import check_servable, model_steps
from shared.workflows.outline import check_parameter_values
from shared.workflows.plans import INFERENCE_BACKENDS, WorkflowPlan, check_workflow, plan_workflow


def check_inputs_given(definition: dict[str, Any], plan: WorkflowPlan, given: set[str]) -> None:
    """The job gives a value for every input a step needs, and no step needs a model no registered one can be
    (also what ``bench.compat`` checks a definition's job against)."""
    missing = {name: why for name, why in plan.required_inputs().items() if name not in given}
    if missing:
        raise WorkflowInvalid("the job gives no value for workflow inputs that need one: "
                              + "; ".join(f"{name!r} ({why})" for name, why in sorted(missing.items()))
                              + ". Give them in processingSpecification.workflowParameters (or, per image, "
                              "imagesMetadataInputsMapping)")
    check_servable(definition)


def workflow_backend(definition: dict[str, Any], default: str) -> str:
    """The executor a job runs on: the one its inferenceBackend selects, else the deployment's."""
    chosen = definition.get("inferenceBackend")
    return INFERENCE_BACKENDS[chosen] if chosen else default


async def checked_workflow(conn: Connection, ws: Workspace, body: JobCreate, kind: str,
                           settings: SchedulerSettings) -> Record:
    """The job's workflow row, once everything the job asks of it holds; raises the 4xx that says what not."""
    spec = body.processing_specification
    workflow = await SchedulerRepository(conn).get_workflow(ws.id, spec.workflow_id)
    if workflow is None:
        raise WorkflowNotFound(spec.workflow_id)
    backend = workflow_backend(body.model_dump(by_alias=True), settings.workflow_backend)
    compiled = await _plan_for(workflow["specification"], backend, settings)
    if spec.image_input_name and spec.image_input_name != compiled.image_input:
        raise InvalidInput(f"imageInputName {spec.image_input_name!r} is not the workflow's image input "
                           f"({compiled.image_input!r})")
    params = spec.workflow_parameters or {}
    unknown = set(params) - set(compiled.parameters)
    if unknown:
        raise WorkflowInvalid(f"workflowParameters names unknown workflow inputs: {sorted(unknown)}")
    check_parameter_values(workflow["specification"], params)
    await _check_metadata(conn, ws, body, kind, set(compiled.parameters))
    check_inputs_given(workflow["specification"], compiled,
                       set(params) | set(spec.images_metadata_inputs_mapping or {}))
    await _check_model_kinds(conn, ws, workflow["specification"], params)
    for model_id in compiled.model_ids(params):
        if await resolve_model(conn, ws.id, model_id) is None:
            raise WorkflowModelUnknown(ws.slug, model_id)
    for output in spec.images_outputs_to_be_persisted or []:
        if output not in compiled.image_outputs():
            raise InvalidInput(f"imagesOutputsToBePersisted: {output!r} is not an image output of the workflow "
                               f"(image outputs: {compiled.image_outputs()})")
    return workflow


async def _check_model_kinds(conn: Connection, ws: Workspace, definition: dict[str, Any],
                             params: dict[str, Any]) -> None:
    """Each model step gets a model of the kind its block runs: a segmentation step aliased to the detector
    would otherwise fail on every file of the job."""
    for step in model_steps(definition, params):
        row = await resolve_model(conn, ws.id, step.model_id)
        if row is None:
            raise WorkflowModelUnknown(ws.slug, step.model_id)
        if step.task and row["task"] != step.task:
            through = f" (an alias of {row['model_id']!r})" if row["model_id"] != step.model_id else ""
            raise InvalidInput(f"step {step.step!r} ({step.block}) runs models of task {step.task}, but "
                               f"{step.model_id!r}{through} is of task {row['task']}: register a {step.task} model "
                               f"under that id, or alias the id to one (conveyor models alias {step.model_id} "
                               f"<model id>)")


async def _plan_for(spec: dict[str, Any], backend: str, settings: SchedulerSettings) -> WorkflowPlan:
    """The workflow's plan on the job's executor. A job choosing another executor than the deployment's
    default is checked as a save on that executor would be (the engine compiles it), since its workflow was
    checked against the default one when it was saved."""
    if backend == settings.workflow_backend:
        return plan_workflow(spec, backend)
    if backend == "inference" and not settings.inference_python.exists():
        raise InvalidInput("inferenceBackend 'old-inference' runs Roboflow's Workflows Execution Engine, which "
                           "this deployment has not installed (bash deploy/local/inference-venv.sh, or set "
                           "CONVEYOR_INFERENCE_PYTHON); send 'inference-models' or leave it out for the "
                           "built-in executor")
    return await asyncio.to_thread(check_workflow, spec, backend, settings.inference_python)


async def _check_metadata(conn: Connection, ws: Workspace, body: JobCreate, kind: str, parameters: set[str]) -> None:
    """Per-image metadata feeds workflow inputs: the part must exist and the mapping name real inputs."""
    part = body.job_input.images_metadata_part
    mapping = body.processing_specification.images_metadata_inputs_mapping
    if not part and not mapping:
        return
    if not part or not mapping:
        raise InvalidInput("imagesMetadataPart and imagesMetadataInputsMapping go together: the part holds each "
                           "image's metadata, the mapping says which workflow input takes which metadata key")
    if kind == "videos":
        raise InvalidInput("imagesMetadataPart applies to image jobs only")
    if not await StagingRepository(conn).metadata_part_exists(ws.id, body.job_input.batch_id, part):
        raise InvalidInput(f"input batch {body.job_input.batch_id!r} has no metadata part {part!r} (upload one "
                           f"with POST .../batches/{{batch_id}}/upload/metadata?partName={part})")
    unknown = sorted(set(mapping) - parameters)
    if unknown:
        raise WorkflowInvalid(f"imagesMetadataInputsMapping names unknown workflow inputs: {unknown} "
                              f"(inputs: {sorted(parameters)})")
