"""Runs Roboflow's Workflows Execution Engine (the ``inference`` package) for a worker, in its own interpreter.

The engine's dependency pins clash with the services' (pydantic, numpy, fastapi), so it lives in a virtual
environment of its own (``deploy/local/inference-venv.sh``) and this program is its entry point:
``<venv>/bin/python -m shared.workflows.engine_host`` with the repository on ``PYTHONPATH``. It imports
nothing of Conveyor but the ONNX model wrappers and the SSRF guard: Conveyor's model registry is the engine's
model manager, so Roboflow model blocks run the worker's registered ONNX files offline, never Roboflow's hosted
API; and every HTTP request a block makes (``webhook_sink``, notifications, LLM APIs) passes the same guard as
Conveyor's own webhooks, redirects included, before it leaves.

Protocol on stdin/stdout, frames of a 4-byte big-endian length and a payload (see ``engine_client``):
1. worker -> host: JSON ``{"workflow", "models": {id: {path, task, layout, class_names, input_size}},
   "threads", "check_only", "allowed_hosts"}``; host -> worker: ``{"ok": true}`` or ``{"error": "..."}``
   (exit if check_only).
2. per image: worker -> host: JSON ``{"parameters", "shape"}`` then the raw BGR uint8 pixels;
   host -> worker: ``{"outputs": {...}}`` (the engine's own serialisation) or ``{"error": "..."}``.
"""

from __future__ import annotations

import json
import os
import struct
import sys
from pathlib import Path
from typing import Any, BinaryIO

ENGINE_ENV = {
    # offline, no telemetry, no code from workflow definitions
    "ALLOW_CUSTOM_PYTHON_EXECUTION_IN_WORKFLOWS": "False", "DISABLE_VERSION_CHECK": "True",
    "ENABLE_PROMETHEUS": "False", "METRICS_ENABLED": "False", "DISABLE_INFERENCE_CACHE": "True",
    "WORKFLOWS_STEP_EXECUTION_MODE": "local", "ACTIVE_LEARNING_ENABLED": "False", "LOG_LEVEL": "WARNING",
    "ALLOW_WORKFLOW_BLOCKS_ACCESSING_LOCAL_STORAGE": "False",
    "ALLOW_WORKFLOW_BLOCKS_ACCESSING_ENVIRONMENTAL_VARIABLES": "False",
}


def read_frame(stream: BinaryIO) -> bytes | None:
    head = stream.read(4)
    if len(head) < 4:
        return None
    (size,) = struct.unpack(">I", head)
    data = stream.read(size)
    if len(data) < size:
        return None
    return data


def write_frame(stream: BinaryIO, payload: bytes) -> None:
    stream.write(struct.pack(">I", len(payload)) + payload)
    stream.flush()


class RegistryModelManager:
    """The subset of inference's ``ModelManager`` that model blocks call, backed by Conveyor's ONNX models."""

    def __init__(self, specs: dict[str, dict[str, Any]], threads: int | None) -> None:
        self.specs = specs
        self.threads = threads
        self.loaded: dict[str, Any] = {}

    def add_model(self, model_id: str, *args: Any, **kwargs: Any) -> None:
        self._model(model_id)

    def infer_from_request_sync(self, model_id: str, request: Any, **kwargs: Any) -> list[Any]:
        from inference.core.entities.responses.inference import (
            ClassificationInferenceResponse,
            ClassificationPrediction,
            InferenceResponseImage,
            ObjectDetectionInferenceResponse,
            ObjectDetectionPrediction,
        )

        model = self._model(model_id)
        images = [_bgr(i) for i in (request.image if isinstance(request.image, list) else [request.image])]
        if self.specs[model_id]["task"] == "classification":
            return [ClassificationInferenceResponse(
                image=InferenceResponseImage(**r["image"]), top=r["top"], confidence=r["confidence"],
                predictions=[ClassificationPrediction(**p) for p in r["predictions"]])
                for r in model.classify(images, confidence=getattr(request, "confidence", None) or 0.0)]
        found = model.detect(images, confidence=_or(request.confidence, 0.4),
                             iou_threshold=_or(request.iou_threshold, 0.45),
                             max_detections=_or(request.max_detections, 300),
                             class_filter=set(request.class_filter) if request.class_filter else None)
        return [ObjectDetectionInferenceResponse(
            image=InferenceResponseImage(width=img.shape[1], height=img.shape[0]),
            predictions=[ObjectDetectionPrediction(**d) for d in dets])
            for img, dets in zip(images, found, strict=True)]

    def _model(self, model_id: str) -> Any:
        if model_id not in self.specs:
            raise KeyError(f"model {model_id!r} is not registered in Conveyor")
        if model_id not in self.loaded:
            from shared.models.classifier import OnnxClassifier
            from shared.models.detector import OnnxDetector

            s = self.specs[model_id]
            if s["task"] == "classification":
                self.loaded[model_id] = OnnxClassifier(Path(s["path"]), s["class_names"], input_size=s["input_size"],
                                                       threads=self.threads)
            else:
                self.loaded[model_id] = OnnxDetector(Path(s["path"]), s["class_names"], input_size=s["input_size"],
                                                     layout=s["layout"], threads=self.threads)
        return self.loaded[model_id]


def _or(value: Any, default: Any) -> Any:
    return default if value is None else value


def _bgr(image: Any) -> Any:
    if getattr(image, "type", None) == "numpy_object":
        return image.value
    from inference.core.utils.image_utils import load_image_bgr

    return load_image_bgr(image)


def _image_input(workflow: dict[str, Any]) -> str:
    names = [i["name"] for i in workflow.get("inputs", []) if i.get("type") in ("WorkflowImage", "InferenceImage")]
    if len(names) != 1:
        raise ValueError(f"a batch workflow needs exactly one image input, this one has {len(names)}")
    return names[0]


def main() -> None:
    proto_out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # anything the engine prints goes to stderr, never into the protocol
    proto_in = sys.stdin.buffer
    config = json.loads(read_frame(proto_in) or b"{}")
    os.environ.update(ENGINE_ENV)
    guard_outbound(frozenset(config.get("allowed_hosts") or []))
    try:
        import numpy as np
        from inference.core.workflows.execution_engine.core import ExecutionEngine

        workflow = config["workflow"]
        image_input = _image_input(workflow)
        manager = RegistryModelManager(config.get("models", {}), config.get("threads") or None)
        engine = ExecutionEngine.init(
            workflow_definition=workflow, prevent_local_images_loading=True,
            init_parameters={"workflows_core.model_manager": manager, "workflows_core.api_key": None,
                             "workflows_core.step_execution_mode": _local_mode()})
    except Exception as exc:
        write_frame(proto_out, json.dumps({"error": _message(exc)}).encode())
        return
    write_frame(proto_out, b'{"ok": true}')
    if config.get("check_only"):
        return
    while (head := read_frame(proto_in)) is not None:
        request = json.loads(head)
        pixels = read_frame(proto_in) or b""
        try:
            image = np.frombuffer(pixels, np.uint8).reshape(request["shape"])
            (result,) = engine.run(runtime_parameters={**request.get("parameters", {}), image_input: image},
                                   serialize_results=True)
            reply = {"outputs": result}
        except Exception as exc:
            reply = {"error": _message(exc)}
        write_frame(proto_out, json.dumps(reply, default=str).encode())


def guard_outbound(allowed: frozenset[str]) -> None:
    """Send every request of ``requests`` and ``httpx`` (what the engine's blocks use) through the SSRF guard:
    at the transport, so each redirect is checked too."""
    import httpx
    import requests.adapters

    from shared.netsafe import check_url_blocking

    send = requests.adapters.HTTPAdapter.send

    def guarded_send(self: Any, request: Any, *args: Any, **kwargs: Any) -> Any:
        check_url_blocking(request.url, allowed)
        return send(self, request, *args, **kwargs)

    handle = httpx.HTTPTransport.handle_request
    handle_async = httpx.AsyncHTTPTransport.handle_async_request

    def guarded_handle(self: Any, request: Any) -> Any:
        check_url_blocking(str(request.url), allowed)
        return handle(self, request)

    async def guarded_handle_async(self: Any, request: Any) -> Any:
        check_url_blocking(str(request.url), allowed)
        return await handle_async(self, request)

    requests.adapters.HTTPAdapter.send = guarded_send  # type: ignore[method-assign]
    httpx.HTTPTransport.handle_request = guarded_handle  # type: ignore[method-assign]
    httpx.AsyncHTTPTransport.handle_async_request = guarded_handle_async  # type: ignore[method-assign]


def _local_mode() -> Any:
    from inference.core.workflows.core_steps.common.entities import StepExecutionMode

    return StepExecutionMode.LOCAL


def _message(exc: BaseException) -> str:
    inner = getattr(exc, "inner_error", None) or exc.__cause__
    text = getattr(exc, "public_message", None) or str(exc) or type(exc).__name__
    if inner is not None and str(inner) and str(inner) not in text:
        text = f"{text}: {inner}"
    return text


if __name__ == "__main__":
    main()
