"""The two workflow executors behind one interface: ``prepare`` a job's workflow once per task, then run it on
each image or frame. Both return Roboflow-shaped outputs the worker serialises the same way.

* ``builtin``: Conveyor's own core blocks in this process (``worker_svc.workflows.runner``), light to install.
* ``inference``: Roboflow's Workflows Execution Engine in a long-lived process of its own environment
  (``worker_svc.workflows.engine_host``), with Conveyor's model registry as its models provider.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from shared.errors import InvalidEvent
from shared.events import ModelExecution, ModelRef
from shared.workflows.compiler import CompiledWorkflow, compile_workflow
from shared.workflows.outline import outline_workflow
from shared.workflows.plans import WorkflowPlan
from worker_svc.config import WorkerSettings
from worker_svc.decoding import Decoded
from worker_svc.inference.session_model import SessionModel
from worker_svc.models import LoadedModels, ModelCache
from worker_svc.workflows.engine_client import EngineHost, EngineWorkflow, workflow_key
from worker_svc.workflows.runner import WorkflowRunner
from worker_svc.workflows.video_state import VideoFrame


@dataclass(frozen=True)
class PreparedWorkflow:
    plan: WorkflowPlan
    # (decoded image, parent id, the image's own parameter values or None, the video frame it is or None)
    # -> outputs; blocking
    run: Callable[[Decoded, str, dict[str, Any] | None, VideoFrame | None], dict[str, Any]]
    # the models it runs in this process, by model id (none for the engine, whose processes load their own)
    models: dict[str, SessionModel] = field(default_factory=dict)
    # how each model runs, as the task reports it
    inference: Callable[[], list[ModelExecution]] = list
    # the side input images may be decoded down to (only models look at them), or None: full size
    reduce_to: int | None = None


def only_models_see_the_image(compiled: CompiledWorkflow) -> bool:
    """Whether the workflow's input image goes to detection and classification models and nowhere else:
    then it may be decoded at any size at least their input's (``worker_svc.decoding``)."""
    selector = f"$inputs.{compiled.image_input}"

    def mentions(value: Any) -> bool:
        if isinstance(value, str):
            return value == selector or value.startswith(selector + ".")
        if isinstance(value, dict):
            return any(mentions(v) for v in value.values())
        if isinstance(value, list | tuple):
            return any(mentions(v) for v in value)
        return False

    uses = [(step, key) for step in compiled.steps for key, value in step.raw.items() if mentions(value)]
    return bool(uses) and all(step.block.resizes_its_image and key == "images" for step, key in uses) and not any(
        mentions(sel) for _, sel in compiled.outputs)


class BuiltinBackend:
    def __init__(self, models: ModelCache) -> None:
        self.models = models

    async def prepare(self, workflow: dict[str, Any], params: dict[str, Any],
                      models: dict[str, ModelRef]) -> PreparedWorkflow:
        compiled = compile_workflow(workflow)
        loaded = {m: await self.models.load(_ref(models, m)) for m in compiled.model_ids(params)}
        runner = WorkflowRunner(compiled, LoadedModels(loaded, self.models.text_reader), params)
        reduce_to = max((m.input_size for m in loaded.values()), default=None) if only_models_see_the_image(
            compiled) and self.models.settings.reduced_decode else None

        def inference() -> list[ModelExecution]:
            return [ModelExecution(model_id=m, sha256=model.options.sha256, **model.execution.as_dict())
                    for m, model in loaded.items()]

        def run(image: Decoded, parent_id: str, own: dict[str, Any] | None, frame: VideoFrame | None) -> dict[str, Any]:
            return runner.run(image.array, parent_id, own, scale=image.scale, full_size=image.full_size, frame=frame)

        return PreparedWorkflow(compiled, run, loaded, inference, reduce_to)

    async def close(self) -> None:
        return None


KEEP_WORKFLOWS = 32


class EngineBackend:
    """One engine host process per worker, started on first use; each job's workflow is compiled in it once
    per (workflow, model files) and parameters travel per image."""

    def __init__(self, settings: WorkerSettings, models: ModelCache) -> None:
        self.settings = settings
        self.models = models
        self.host = EngineHost(settings.inference_python, threads=settings.ort_threads or None,
                               allowed_hosts=settings.webhook_allowed_hosts)
        # the workflows compiled in the host, by key; a few more than the host keeps (it reloads what it dropped)
        self._loaded: OrderedDict[str, EngineWorkflow] = OrderedDict()
        self._lock = asyncio.Lock()

    async def prepare(self, workflow: dict[str, Any], params: dict[str, Any],
                      models: dict[str, ModelRef]) -> PreparedWorkflow:
        outline = outline_workflow(workflow)
        files = {m: dataclasses.asdict(await self.models.fetch(_ref(models, m))) for m in outline.model_ids(params)}
        loaded = await self._workflow(workflow.get("specification", workflow), files)
        values = {**outline.parameters, **params}
        # the engine's processes run Conveyor's onnxruntime models (fp32), on this worker's device
        ran = [ModelExecution(model_id=m, sha256=f["sha256"], runtime="onnxruntime", precision="fp32",
                              device=self.settings.machine_type) for m, f in files.items()]
        # the engine process keeps the state of Roboflow's video blocks itself, per video identifier
        return PreparedWorkflow(outline, lambda image, parent, own, frame: loaded.run(
            image.array, {**values, **(own or {})}, parent, frame), inference=lambda: ran)

    async def _workflow(self, spec: dict[str, Any], files: dict[str, dict[str, Any]]) -> EngineWorkflow:
        key = workflow_key(spec, files)
        async with self._lock:
            if key not in self._loaded:
                self._loaded[key] = await asyncio.to_thread(self.host.load, spec, files)
                while len(self._loaded) > KEEP_WORKFLOWS:
                    self._loaded.popitem(last=False)
            self._loaded.move_to_end(key)
            return self._loaded[key]

    async def close(self) -> None:
        await asyncio.to_thread(self.host.close)


def _ref(models: dict[str, ModelRef], model_id: str) -> ModelRef:
    if model_id not in models:
        # the scheduler resolves every model of the workflow when it dispatches the task
        raise InvalidEvent(f"the task names no registered model {model_id!r}")
    return models[model_id]


class Backends:
    """The executors a task may ask for (its job's inferenceBackend): the built-in one always, Roboflow's engine
    where this worker has its environment; a task that names none runs on the worker's default."""

    def __init__(self, settings: WorkerSettings, models: ModelCache) -> None:
        self.settings = settings
        self.models = models
        self.builtin = BuiltinBackend(models)
        self.engine = EngineBackend(settings, models)  # starts engine processes on first use only

    def pick(self, name: str | None) -> BuiltinBackend | EngineBackend:
        chosen = name or self.settings.workflow_backend
        if chosen == "builtin":
            return self.builtin
        if not self.settings.inference_python.exists():
            raise InvalidEvent("the task runs on Roboflow's Workflows Execution Engine, whose environment this "
                               f"worker lacks ({self.settings.inference_python}; bash deploy/local/inference-venv.sh)")
        return self.engine

    async def prepare(self, backend: str | None, workflow: dict[str, Any], params: dict[str, Any],
                      models: dict[str, ModelRef]) -> PreparedWorkflow:
        return await self.pick(backend).prepare(workflow, params, models)

    async def close(self) -> None:
        await self.builtin.close()
        await self.engine.close()
