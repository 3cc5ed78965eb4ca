"""Workflow and model registries. Workflows are validated when saved; models when registered (they must
load in onnxruntime and their outputs must match the declared class names)."""

from __future__ import annotations

import asyncio
import hashlib
import json
import tempfile
from pathlib import Path
from typing import Any

from scheduler_svc.default_model import DEFAULT_MODEL_ID, ensure_default_model
from scheduler_svc.errors import WorkflowNotFound
from scheduler_svc.model_inspection import MAX_MODEL_BYTES, TASKS, inspect_in_child, memory_limit_bytes
from scheduler_svc.repository import SchedulerRepository
from scheduler_svc.schemas import WorkflowSave
from shared.config import ServiceSettings
from shared.db import Connection, Pool, Record
from shared.errors import InvalidInput
from shared.events import ModelRef
from shared.storage import ObjectStore, shared_ref_key
from shared.workflows.errors import BuiltinLacks, WorkflowInvalid
from shared.workflows.plans import check_workflow


def workflow_body(definition: WorkflowSave | dict[str, Any]) -> dict[str, Any]:
    """The specification from any of the accepted shapes: {specification}, {config: "<json>"}, or bare."""
    if isinstance(definition, WorkflowSave):
        if definition.specification is not None:
            return definition.specification
        config = definition.config
        if isinstance(config, str):
            try:
                config = json.loads(config)
            except ValueError:
                raise InvalidInput("config is not valid JSON") from None
        if isinstance(config, dict):
            return config.get("specification", config)
        raise InvalidInput("send {'specification': {...}} with inputs, steps and outputs")
    return definition.get("specification", definition)


async def check_workflow_definition(workflow_id: str, spec: dict[str, Any], settings: ServiceSettings) -> None:
    """Refuses bad ids, unknown or blocked blocks, bad selectors, several image inputs... before anything is
    stored; with the engine backend the engine compiles the definition (seconds: in a thread). A definition
    the default executor refuses is kept when the deployment's other executor runs it (jobs then choose that one
    with inferenceBackend; a job on the default is refused with the default's reason)."""
    if not workflow_id or len(workflow_id) > 128 or "/" in workflow_id:
        raise InvalidInput("workflow ids are 1 to 128 characters, without '/'")
    try:
        await asyncio.to_thread(check_workflow, spec, settings.workflow_backend, settings.inference_python)
    except WorkflowInvalid as refused:
        other = "inference" if settings.workflow_backend == "builtin" else "builtin"
        # the engine is asked (seconds) only about what the built-in executor lacks, where it is installed
        if other == "inference" and not (isinstance(refused, BuiltinLacks) and settings.inference_python.exists()):
            raise
        try:
            await asyncio.to_thread(check_workflow, spec, other, settings.inference_python)
        except WorkflowInvalid as also:
            raise WorkflowInvalid(both_refuse(refused, also, settings.workflow_backend)) from None


def both_refuse(default: WorkflowInvalid, other: WorkflowInvalid, default_backend: str) -> str:
    """One answer with each executor's reason, the built-in executor's first."""
    builtin, engine = (default, other) if default_backend == "builtin" else (other, default)
    return f"neither executor runs this workflow: the built-in executor: {builtin}; {engine}"


async def save_workflow(conn: Connection, ws_id: str, workflow_id: str, spec: dict[str, Any]) -> None:
    await SchedulerRepository(conn).upsert_workflow(ws_id, workflow_id, spec)


def workflow_document(workspace: str, row: Record) -> dict[str, Any]:
    """The shape inference's ``get_workflow_specification`` expects."""
    return {"workflow": {"id": row["workflow_id"], "name": row["workflow_id"], "workspace": workspace,
                         "config": json.dumps({"specification": row["specification"]}),
                         "createdAt": row["created_at"].isoformat(), "updatedAt": row["updated_at"].isoformat()}}


async def get_workflow(conn: Connection, ws_id: str, workflow_id: str) -> Record:
    row = await SchedulerRepository(conn).get_workflow(ws_id, workflow_id)
    if row is None:
        raise WorkflowNotFound(workflow_id)
    return row


async def register_model(conn: Connection, store: ObjectStore, ws_id: str | None, model_id: str,
                         data: bytes, task: str, class_names: list[str], keypoint_names: list[str] | None = None,
                         *, check_memory_mb: int = 768, check_timeout_s: float = 120.0) -> dict[str, Any]:
    if not model_id or len(model_id) > 128 or not all(c.isalnum() or c in "-_./" for c in model_id):
        raise InvalidInput("model ids are 1 to 128 letters, digits, '-', '_', '.' or '/'")
    if task not in TASKS:
        raise InvalidInput(f"task must be one of {', '.join(TASKS)}")
    if not class_names:
        raise InvalidInput("classNames must list the model's classes in output order")
    if len(data) > MAX_MODEL_BYTES:
        raise InvalidInput("models are limited to 1 GiB")
    with tempfile.NamedTemporaryFile(suffix=".onnx") as tmp:
        tmp.write(data)
        tmp.flush()
        layout, size = await inspect_in_child(Path(tmp.name), task, class_names, keypoint_names,
                                              memory_bytes=memory_limit_bytes(len(data), check_memory_mb),
                                              timeout_s=check_timeout_s)
    digest = hashlib.sha256(data).hexdigest()
    key = f"{ws_id or 'shared'}/{model_id}/{digest}.onnx"
    await store.put_bytes(key, data, bucket=store.settings.models_bucket)
    await SchedulerRepository(conn).upsert_model(ws_id, model_id, task=task, layout=layout, class_names=class_names,
                                                 input_size=size, object_key=key, sha256=digest,
                                                 keypoint_names=keypoint_names)
    if ws_id is None:
        await publish_shared_ref(store, ModelRef(model_id=model_id, object_key=key, sha256=digest, task=task,
                                                 layout=layout, class_names=class_names, input_size=size,
                                                 keypoint_names=keypoint_names or []))
    return {"modelId": model_id, "task": task, "layout": layout, "inputSize": size, "sha256": digest,
            **({"keypointNames": keypoint_names} if keypoint_names else {})}


async def register_default_model(pool: Pool, store: ObjectStore, cache_dir: Path) -> None:
    """Pre-register the converted YOLOv4-tiny COCO detector for every workspace (idempotent)."""
    model = ensure_default_model(cache_dir)
    data = model.onnx_path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    async with pool.acquire() as conn:
        existing = await SchedulerRepository(conn).shared_model_digest(DEFAULT_MODEL_ID)
    key = f"shared/{DEFAULT_MODEL_ID}/{digest}.onnx"
    ref = ModelRef(model_id=DEFAULT_MODEL_ID, object_key=key, sha256=digest, task="object-detection",
                   layout="boxes-scores", class_names=model.class_names, input_size=model.input_size)
    if existing != digest:
        await store.put_bytes(key, data, bucket=store.settings.models_bucket)
        async with pool.acquire() as conn:
            await SchedulerRepository(conn).upsert_model(
                None, DEFAULT_MODEL_ID, task=ref.task, layout="boxes-scores", class_names=ref.class_names,
                input_size=model.input_size, object_key=key, sha256=digest)
    await publish_shared_ref(store, ref)


async def publish_shared_ref(store: ObjectStore, ref: ModelRef) -> None:
    """Where workers find a model registered for every workspace before any task names it (to preload it)."""
    await store.put_bytes(shared_ref_key(ref.model_id), ref.model_dump_json().encode(),
                          bucket=store.settings.models_bucket, content_type="application/json")
