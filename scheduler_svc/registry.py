"""Workflow and model registries. Workflows are validated when saved; models when registered (they must
load in onnxruntime and their outputs must match the declared class names)."""

from __future__ import annotations

import asyncio
import hashlib
import json
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import onnxruntime as ort

from scheduler_svc.default_model import DEFAULT_MODEL_ID, ensure_default_model
from scheduler_svc.errors import WorkflowNotFound
from scheduler_svc.repository import SchedulerRepository
from scheduler_svc.schemas import WorkflowSave
from shared.config import ServiceSettings
from shared.db import Connection, Pool, Record
from shared.errors import InvalidInput
from shared.events import ModelRef
from shared.storage import ObjectStore, shared_ref_key
from shared.workflows.errors import BuiltinLacks, WorkflowInvalid
from shared.workflows.plans import check_workflow

MAX_MODEL_BYTES = 1024**3


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
        except WorkflowInvalid:
            raise refused from None


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


MAX_INPUT_SIDE = 4096  # an image model's declared input side; high-resolution images are sliced (SAHI)


def declared_input(path: Path) -> list[int | str]:
    """The input's declared shape, read from the graph without a session: a model that declares a huge input
    is refused before onnxruntime allocates anything for it."""
    try:
        graph = onnx.load(str(path), load_external_data=False).graph
    except Exception as exc:
        raise InvalidInput(f"the file is not an ONNX model: {str(exc)[:300]}") from None
    initializers = {i.name for i in graph.initializer}
    inputs = [i for i in graph.input if i.name not in initializers]
    if len(inputs) != 1:
        raise InvalidInput("the model must take one image input of shape [N, 3, H, W]")
    return [d.dim_value if d.HasField("dim_value") else (d.dim_param or "?")
            for d in inputs[0].type.tensor_type.shape.dim]


# object detection ([N, 4 + C, A] or boxes and scores), instance segmentation (YOLOv8/YOLO11-seg: [N, 4 + C + M, A]
# and M mask prototypes [N, M, h, w]), keypoint detection (YOLOv8/YOLO11-pose: [N, 4 + C + 3 K, A], each keypoint
# x, y, confidence), single-label classification ([N, C] scores or logits, softmax), multi-label classification
# ([N, C] probabilities or logits, one sigmoid per class)
TASKS = ("object-detection", "instance-segmentation", "keypoint-detection", "classification",
         "multi-label-classification")


def inspect_model(path: Path, task: str, class_names: list[str], keypoint_names: list[str] | None = None,
                  ) -> tuple[str, int]:
    """Check an ONNX model loads and fits its declaration; returns (layout, input size). Blocking: run it in a
    thread."""
    if keypoint_names and task != "keypoint-detection":  # accepted, they would be stored and never read
        raise InvalidInput("keypointNames is for keypoint detection models (task keypoint-detection)")
    shape = declared_input(path)
    if len(shape) != 4 or shape[1] not in (3, "?"):
        raise InvalidInput(f"the model must take one image input of shape [N, 3, H, W], not {shape}")
    if any(isinstance(side, int) and side > MAX_INPUT_SIDE for side in shape[2:]):
        raise InvalidInput(f"the model's input is {shape[2]}x{shape[3]}; at most {MAX_INPUT_SIDE} pixels a side")
    try:
        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    except Exception as exc:
        raise InvalidInput(f"the model does not load in onnxruntime: {str(exc)[:300]}") from None
    inputs = session.get_inputs()
    if len(inputs) != 1 or len(inputs[0].shape) != 4:
        raise InvalidInput("the model must take one image input of shape [N, 3, H, W]")
    size = inputs[0].shape[2] if isinstance(inputs[0].shape[2], int) else 640
    outputs = {o.name: o.shape for o in session.get_outputs()}
    probe = np.zeros((1, 3, size, size), np.float32)
    try:
        results = dict(zip(outputs, session.run(None, {inputs[0].name: probe}), strict=True))
    except Exception as exc:  # a graph that loads but cannot run on an image of its own input size
        raise InvalidInput(f"the model fails on a {size}x{size} image: {str(exc)[:300]}") from None
    if task in ("classification", "multi-label-classification"):
        if len(results) != 1:
            raise InvalidInput(f"a classification model must have one output of class scores, not {len(results)}")
        (scores,) = results.values()
        if scores.reshape(1, -1).shape[1] != len(class_names):
            raise InvalidInput(f"the model scores {scores.reshape(1, -1).shape[1]} classes, "
                               f"classNames lists {len(class_names)}")
        return task, int(size)
    if task == "keypoint-detection":
        if len(results) != 1 or next(iter(results.values())).ndim != 3:
            raise InvalidInput("a keypoint detection model must output [N, 4 + C + 3 K, A] (the YOLOv8/YOLO11-pose "
                               "layout: box, class scores, then x, y, confidence of each keypoint)")
        channels = next(iter(results.values())).shape[1] - 4 - len(class_names)
        if channels <= 0 or channels % 3:
            raise InvalidInput(f"the model's {channels + len(class_names)} channels after the box are not "
                               f"{len(class_names)} class scores and 3 per keypoint: check classNames")
        if len(keypoint_names or []) != channels // 3:
            raise InvalidInput(f"the model has {channels // 3} keypoints, keypointNames lists "
                               f"{len(keypoint_names or [])} (name them in output order, e.g. nose,left_eye,...)")
        return "yolov8-pose", int(size)
    if task == "instance-segmentation":
        ranks = sorted(r.ndim for r in results.values())
        if ranks != [3, 4]:
            raise InvalidInput("an instance segmentation model must output [N, 4 + C + M, A] and mask prototypes "
                               "[N, M, h, w] (the YOLOv8/YOLO11-seg layout)")
        out = next(r for r in results.values() if r.ndim == 3)
        protos = next(r for r in results.values() if r.ndim == 4)
        classes = out.shape[1] - 4 - protos.shape[1]
        if classes != len(class_names):
            raise InvalidInput(f"the model segments {classes} classes, classNames lists {len(class_names)}")
        return "yolov8-seg", int(size)
    if {"boxes", "scores"} <= set(results):
        classes = results["scores"].shape[-1]
        layout = "boxes-scores"
    elif len(results) == 1:
        (out,) = results.values()
        if out.ndim != 3:
            raise InvalidInput("a detection model must output [N, 4 + C, A] (YOLOv8 layout) or boxes and scores")
        classes = out.shape[1] - 4
        layout = "yolov8"
    else:
        raise InvalidInput("a detection model must output [N, 4 + C, A] (YOLOv8 layout) or boxes and scores")
    if classes != len(class_names):
        raise InvalidInput(f"the model detects {classes} classes, classNames lists {len(class_names)}")
    return layout, int(size)


async def register_model(conn: Connection, store: ObjectStore, ws_id: str | None, model_id: str,
                         data: bytes, task: str, class_names: list[str], keypoint_names: list[str] | None = None,
                         ) -> dict[str, Any]:
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
        layout, size = await asyncio.to_thread(inspect_model, Path(tmp.name), task, class_names, keypoint_names)
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
