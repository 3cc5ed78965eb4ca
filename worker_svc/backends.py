"""The two workflow executors behind one interface: ``prepare`` a job's workflow once per task, then run it on
each image or frame. Both return Roboflow-shaped outputs the worker serialises the same way.

* ``builtin``: Conveyor's own core blocks in this process (``worker_svc.workflows.runner``), light to install.
* ``inference``: Roboflow's Workflows Execution Engine in a long-lived process of its own environment
  (``worker_svc.workflows.engine_host``), with Conveyor's model registry as its model manager.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import json
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from shared.errors import InvalidEvent
from shared.events import ModelRef
from shared.workflows.compiler import compile_workflow
from shared.workflows.outline import outline_workflow
from shared.workflows.plans import WorkflowPlan
from worker_svc.config import WorkerSettings
from worker_svc.models import LoadedModels, ModelCache
from worker_svc.workflows.engine_client import EngineRunner
from worker_svc.workflows.runner import WorkflowRunner


@dataclass(frozen=True)
class PreparedWorkflow:
    plan: WorkflowPlan
    # (image BGR, parent id, the image's own parameter values or None) -> outputs; blocking
    run: Callable[[np.ndarray, str, dict[str, Any] | None], dict[str, Any]]


class BuiltinBackend:
    def __init__(self, models: ModelCache) -> None:
        self.models = models

    async def prepare(self, workflow: dict[str, Any], params: dict[str, Any],
                      models: dict[str, ModelRef]) -> PreparedWorkflow:
        compiled = compile_workflow(workflow)
        loaded = {m: await self.models.load(_ref(models, m)) for m in compiled.model_ids(params)}
        runner = WorkflowRunner(compiled, LoadedModels(loaded), params)
        return PreparedWorkflow(compiled, runner.run)

    async def close(self) -> None:
        return None


class EngineBackend:
    """Keeps a few engine processes warm, one per (workflow, model files); parameters travel per image."""

    def __init__(self, settings: WorkerSettings, models: ModelCache, *, keep: int = 2) -> None:
        self.settings = settings
        self.models = models
        self.keep = keep
        self._processes: OrderedDict[str, EngineRunner] = OrderedDict()
        self._lock = asyncio.Lock()

    async def prepare(self, workflow: dict[str, Any], params: dict[str, Any],
                      models: dict[str, ModelRef]) -> PreparedWorkflow:
        outline = outline_workflow(workflow)
        files = {m: dataclasses.asdict(await self.models.fetch(_ref(models, m))) for m in outline.model_ids(params)}
        process = await self._process(workflow.get("specification", workflow), files)
        values = {**outline.parameters, **params}
        return PreparedWorkflow(outline, lambda image, _parent, own: process.run(image, {**values, **(own or {})}))

    async def _process(self, spec: dict[str, Any], files: dict[str, dict[str, Any]]) -> EngineRunner:
        key = hashlib.sha256(json.dumps([spec, files], sort_keys=True).encode()).hexdigest()
        async with self._lock:
            process = self._processes.get(key)
            if process is not None and process.alive:
                self._processes.move_to_end(key)
                return process
            process = await asyncio.to_thread(EngineRunner, self.settings.inference_python, spec, files,
                                              threads=self.settings.ort_threads or None,
                                              allowed_hosts=self.settings.webhook_allowed_hosts)
            self._processes[key] = process
            while len(self._processes) > self.keep:
                _, old = self._processes.popitem(last=False)
                await asyncio.to_thread(old.close)
            return process

    async def close(self) -> None:
        async with self._lock:
            for process in self._processes.values():
                await asyncio.to_thread(process.close)
            self._processes.clear()


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
