"""Runs a step of the Roboflow Workflow blocks of ``shared.workflows.catalogue`` on Conveyor's own ONNX models.

What each block does is its module of ``worker_svc/workflows/runs/``, of the same name as its spec's module, found
when this module loads: ``run(models, params)`` for a step on one image, ``stateful(params, frame, state)`` for
a block that keeps state from frame to frame of a video, ``batched(models, params, images)`` for a block that takes
every element of a nested batch (crops) in one call. Parameters of a per-element kind may receive a ``Batch`` (one
value per crop), in which case the block runs once per element; an element that is ``None`` (its branch was
stopped by ``continue_if``) gives ``None``. Output shapes follow Roboflow's serialised Workflow outputs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from shared.workflows.blockspec import PER_ELEMENT_KINDS, BlockSpec, block_modules
from worker_svc.workflows.values import CONTINUE, Batch, Detections, Image
from worker_svc.workflows.video_blocks import StatefulRun
from worker_svc.workflows.video_state import VideoFrame


class ModelProvider(Protocol):
    """Resolves ``model_id``s of the workflow to loaded models (the worker's model registry cache)."""

    def detector(self, model_id: str) -> Any: ...

    def classifier(self, model_id: str) -> Any: ...

    def text_reader(self) -> Any: ...


Run = Callable[[ModelProvider, dict[str, Any]], dict[str, Any]]
Batched = Callable[[ModelProvider, dict[str, Any], list[Image]], list[dict[str, Any]]]


def _discover() -> tuple[dict[str, Run], dict[str, StatefulRun], dict[str, Batched]]:
    from worker_svc.workflows import runs  # its modules import this one's types: found after they exist

    single: dict[str, Run] = {}
    stateful: dict[str, StatefulRun] = {}
    batched: dict[str, Batched] = {}
    for name, module in block_modules(runs):
        for table, attribute in ((single, "run"), (stateful, "stateful"), (batched, "batched")):
            if hasattr(module, attribute):
                table[name] = getattr(module, attribute)
    return single, stateful, batched


RUNS, STATEFUL, BATCHED = _discover()


def run_block(block: BlockSpec, models: ModelProvider, params: dict[str, Any],
              frame: VideoFrame | None = None, state: dict[str, Any] | None = None) -> dict[str, Any]:
    """Run a block, once per element when a per-element parameter (or a value of a ``selectors`` object) is a
    Batch (crops). A stateful block runs on the ``frame`` with its ``state`` for the frame's video (the
    compiler keeps such blocks off nested batches)."""
    for name, kind in block.params.items():
        if kind == "predictions" and isinstance(params.get(name), dict):  # given as an input, serialised
            params = {**params, name: Detections.parse(params[name])}
    if block.keeps_state(params):
        if frame is None or state is None:
            raise ValueError(f"block {block.name} keeps state per video: it needs the frame and its state")
        return STATEFUL[block.name](params, frame, state)
    run = RUNS[block.name]
    batched: list[tuple[str, str | int | None]] = []  # (parameter, key of a selectors object or list, or None)
    for name, kind in block.params.items():
        value = params.get(name)
        if kind in PER_ELEMENT_KINDS and isinstance(value, Batch):
            batched.append((name, None))
        elif kind == "selectors" and isinstance(value, dict):
            batched += [(name, key) for key, v in value.items() if isinstance(v, Batch)]
        elif kind == "predictions_list" and isinstance(value, list) and not isinstance(value, Batch):
            batched += [(name, index) for index, v in enumerate(value) if isinstance(v, Batch)]
    if not batched:
        return run(models, params)
    name, key = batched[0]
    size = len(params[name] if key is None else params[name][key])
    outputs = (CONTINUE,) if block.flow_control else block.outputs_of(params)
    nested = any(isinstance(v, Batch) for v in params[name]) if key is None else False
    if block.name in BATCHED and batched == [("images", None)] and not nested:
        present = [i for i, image in enumerate(params["images"]) if image is not None]
        answers = dict(zip(present, BATCHED[block.name](models, params, [params["images"][i] for i in present]),
                           strict=True))
        results = [answers.get(i) for i in range(size)]
    else:
        # an element may itself be a Batch (crops of crops): it runs once per element again
        results = [_run_element(lambda m, p: run_block(block, m, p), models, params, batched, i) for i in range(size)]
    return {out: Batch(None if r is None else r[out] for r in results) for out in outputs}


def _run_element(run: Run, models: ModelProvider, params: dict[str, Any],
                 batched: list[tuple[str, str | int | None]], i: int) -> dict[str, Any] | None:
    element = dict(params)
    for name, key in batched:
        if key is None:
            element[name] = params[name][i]
        elif isinstance(key, int):
            element[name] = [*element[name][:key], params[name][key][i], *element[name][key + 1:]]
        else:
            element[name] = {**element[name], key: params[name][key][i]}
        if (element[name] if key is None else element[name][key]) is None:
            return None  # this element's branch was stopped
    return run(models, element)
