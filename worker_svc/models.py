"""The worker's model cache: turns the model references a task carries into loaded models.

Models are fetched from S3 once (by content hash) into the cache folder and kept loaded, least recently
used first out. Loading is async (S3); running the workflow then finds them in memory. Shared models to preload
are found by their reference object, which the scheduler's registry keeps in the models bucket.

Each model runs where ``WORKER_RUNTIME`` and ``WORKER_PRECISION`` say. When they leave a choice (``auto``), a
model starts on the reference (onnxruntime fp32) and the first task that uses it runs the accuracy gate on a
sample of its images (``worker_svc.inference.gate``); from then on the model runs on the fastest execution
that passed, a verdict kept on disk for the next start.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from shared.events import ModelRef
from shared.storage import ObjectMissing, ObjectStore, shared_ref_key
from worker_svc.config import WorkerSettings
from worker_svc.inference.classifier import OnnxClassifier
from worker_svc.inference.detector import OnnxDetector
from worker_svc.inference.gate import Verdicts, judge
from worker_svc.inference.ocr import TextReader
from worker_svc.inference.runtimes import Execution, choices, fingerprint, reference

log = logging.getLogger(__name__)
GATE_TRIES = 3  # tasks whose samples may decide nothing before a model stays on the reference for good


@dataclass(frozen=True)
class ModelFile:
    model_id: str
    path: str
    sha256: str
    task: str
    layout: str | None
    class_names: list[str]
    input_size: int | None
    keypoint_names: list[str] = field(default_factory=list)


class ModelCache:
    def __init__(self, store: ObjectStore, settings: WorkerSettings) -> None:
        self.store = store
        self.settings = settings
        self.cache_dir = settings.cache_dir / "registry"
        self._loaded: OrderedDict[tuple[str, str], Any] = OrderedDict()
        self._lock = asyncio.Lock()
        # raises ValueError for a runtime or precision this machine cannot honour: the worker does not start
        self.choices = choices(settings.runtime, settings.precision, settings.machine_type)
        self.verdicts = Verdicts(settings.cache_dir / "gate", fingerprint(self.choices))
        self._ungated: dict[int, int] = {}  # id(model) -> gate tries left, for models still on the reference
        self._gate_lock = asyncio.Lock()
        # OCR's models ship with their library: loaded by the first workflow that reads text, then kept
        self.text_reader = TextReader(threads=settings.session_threads)

    async def fetch(self, ref: ModelRef) -> ModelFile:
        """The model's ONNX file in the local cache (downloaded once, by hash)."""
        path = self.cache_dir / f"{ref.sha256}.onnx"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            data = await self.store.get_bytes(ref.object_key, bucket=self.store.settings.models_bucket)
            tmp = path.with_suffix(f".{uuid.uuid4().hex}.tmp")
            tmp.write_bytes(data)
            tmp.replace(path)
        return ModelFile(ref.model_id, str(path), ref.sha256, ref.task, ref.layout, list(ref.class_names),
                         ref.input_size, list(ref.keypoint_names))

    async def shared_ref(self, model_id: str) -> ModelRef | None:
        """The reference of a model registered for every workspace, or None while it is not registered."""
        try:
            data = await self.store.fetch(shared_ref_key(model_id), bucket=self.store.settings.models_bucket)
        except ObjectMissing:
            return None
        return ModelRef.model_validate_json(data)

    async def preload(self, model_ids: list[str], wait_s: float, retry_s: float = 1.0) -> list[str]:
        """Load shared models and warm every lane of each; returns the ids loaded. A model not registered yet
        is retried until ``wait_s`` has passed, then skipped (a task needing it loads it as usual)."""
        deadline = time.monotonic() + wait_s
        loaded = []
        for model_id in model_ids:
            while (ref := await self.shared_ref(model_id)) is None and time.monotonic() < deadline:
                await asyncio.sleep(retry_s)
            if ref is None:
                log.warning("model %r to preload is not registered; skipped", model_id)
                continue
            model = await self.load(ref)
            try:
                await asyncio.to_thread(model.warm_up)
            except Exception:  # loaded all the same: a task that uses it gets the model's own error
                log.warning("model %r did not run on a blank image", model_id, exc_info=True)
            loaded.append(model_id)
        return loaded

    async def load(self, ref: ModelRef) -> Any:
        async with self._lock:
            key = (ref.model_id, ref.sha256)
            if key in self._loaded:
                self._loaded.move_to_end(key)
                return self._loaded[key]
            model = await asyncio.to_thread(self._build, await self.fetch(ref))
            self._loaded[key] = model
            while len(self._loaded) > self.settings.model_cache_size:
                _, evicted = self._loaded.popitem(last=False)
                self._ungated.pop(id(evicted), None)
                evicted.close()  # a run still holding it finishes its batch first
            return model

    def _execution(self, f: ModelFile) -> tuple[Execution, bool]:
        """Where the model starts, and whether the gate is still to choose for it."""
        if len(self.choices) == 1:
            return self.choices[0], False
        verdict = self.verdicts.get(f.sha256, self.settings.machine_type)
        if verdict is not None:
            return verdict.chosen, False
        return reference(self.settings.machine_type), True

    def awaiting_gate(self, models: list[Any]) -> bool:
        return any(id(m) in self._ungated for m in models)

    async def gate(self, models: list[Any], images: list[np.ndarray]) -> None:
        """Run the accuracy gate for the models still on the reference, on ``images`` (a task's first ones),
        and move each to the execution it chose."""
        async with self._gate_lock:
            for model in models:
                tries = self._ungated.get(id(model))
                if tries is None:
                    continue
                verdict = await asyncio.to_thread(judge, model, self.choices, images)
                if verdict is None:
                    if tries <= 1:
                        del self._ungated[id(model)]
                        log.info("accuracy gate: too few reference findings in %d tries; %s stays on %s",
                                 GATE_TRIES, model.model_path.name, model.execution.label)
                    else:
                        self._ungated[id(model)] = tries - 1
                    continue
                del self._ungated[id(model)]
                self.verdicts.put(model.options.sha256, self.settings.machine_type, verdict)
                log.info("accuracy gate for %s on %d images: %s; chosen %s", model.model_path.name,
                         verdict.images, "; ".join(
                             f"{t.execution.label} {t.images_per_s:.0f}/s matched {t.matched:.3f}/"
                             f"{t.matched_back:.3f}" for t in verdict.trials), verdict.chosen.label)
                await asyncio.to_thread(model.switch, verdict.chosen)
                await asyncio.to_thread(model.warm_up)  # the new lanes' buffers, before the task's images

    def _build(self, f: ModelFile) -> OnnxClassifier | OnnxDetector:
        s = self.settings
        execution, ungated = self._execution(f)
        session: dict[str, Any] = {"threads": s.session_threads, "prefer_gpu": s.machine_type == "gpu",
                                   "spin": s.ort_spinning, "execution": execution,
                                   "cache_dir": s.cache_dir / "compiled", "sha256": f.sha256}
        model: OnnxClassifier | OnnxDetector
        if f.task in ("classification", "multi-label-classification"):
            model = OnnxClassifier(Path(f.path), f.class_names, input_size=f.input_size,
                                   multi_label=f.task == "multi-label-classification", **session)
        else:
            model = OnnxDetector(Path(f.path), f.class_names, input_size=f.input_size, layout=f.layout,  # type: ignore[arg-type]
                                 keypoint_names=f.keypoint_names, **session)
        model.enable_batching(s.batch, s.batch_wait_ms / 1000, s.lanes)
        if ungated:
            self._ungated[id(model)] = GATE_TRIES
        return model


class LoadedModels:
    """The ``ModelProvider`` handed to a workflow run: the models its task preloaded, and the worker's text
    reader (OCR; one of its own where none is given)."""

    _text_reader: TextReader | None = None

    def __init__(self, models: dict[str, Any], text_reader: TextReader | None = None) -> None:
        self._models = models
        self._text_reader = text_reader

    def text_reader(self) -> TextReader:
        if self._text_reader is None:
            self._text_reader = TextReader()
        return self._text_reader

    def detector(self, model_id: str) -> Any:
        return self._models[model_id]

    def classifier(self, model_id: str) -> Any:
        return self._models[model_id]
