"""Roboflow's Workflows Execution Engine (the ``inference`` package), run in an interpreter of its own.

The engine's dependency pins clash with the services' (pydantic, numpy, fastapi), so it lives in a virtual
environment of its own (``deploy/local/inference-venv.sh``) and Conveyor talks to it over a pipe. Two programs
speak this protocol: this module's ``main``, which only compiles a definition (the scheduler's check when a
job or workflow is saved), and the worker's host (``worker_svc.workflows.engine_host``), which also runs it.

Protocol on stdin/stdout, frames of a 4-byte big-endian length and a payload:
1. service -> host: JSON ``{"workflow", "models": {id: {path, task, layout, class_names, input_size}},
   "threads", "check_only", "allowed_hosts"}``; host -> service: ``{"ok": true}`` or ``{"error": "..."}``
   (exit if check_only).
2. per image: service -> host: JSON ``{"parameters", "shape"}`` then the raw BGR uint8 pixels;
   host -> service: ``{"outputs": {...}}`` (the engine's own serialisation) or ``{"error": "..."}``.

Every HTTP request a block makes (``webhook_sink``, notifications, LLM APIs) passes the same SSRF guard as
Conveyor's own webhooks, redirects included, before it leaves.
"""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import threading
from pathlib import Path
from typing import IO, Any, BinaryIO

from shared.workflows.errors import WorkflowInvalid

ENGINE_ENV = {
    # offline, no telemetry, no code from workflow definitions
    "ALLOW_CUSTOM_PYTHON_EXECUTION_IN_WORKFLOWS": "False", "DISABLE_VERSION_CHECK": "True",
    "ENABLE_PROMETHEUS": "False", "METRICS_ENABLED": "False", "DISABLE_INFERENCE_CACHE": "True",
    "WORKFLOWS_STEP_EXECUTION_MODE": "local", "ACTIVE_LEARNING_ENABLED": "False", "LOG_LEVEL": "WARNING",
    "ALLOW_WORKFLOW_BLOCKS_ACCESSING_LOCAL_STORAGE": "False",
    "ALLOW_WORKFLOW_BLOCKS_ACCESSING_ENVIRONMENTAL_VARIABLES": "False",
}
START_TIMEOUT_S = 180.0
# the programs import Conveyor's code from the checkout or image they belong to
CODE_ROOT = Path(__file__).resolve().parents[2]


class EngineUnavailable(RuntimeError):
    """The ``inference`` environment is missing or its host process died."""


def read_frame(stream: IO[bytes]) -> bytes | None:
    head = stream.read(4)
    if len(head) < 4:
        return None
    (size,) = struct.unpack(">I", head)
    data = stream.read(size)
    if len(data) < size:
        return None
    return data


def write_frame(stream: IO[bytes], payload: bytes) -> None:
    stream.write(struct.pack(">I", len(payload)) + payload)
    stream.flush()


class EngineProcess:
    """One host process (``program``: the module it runs) that has accepted ``workflow``."""

    def __init__(self, python: Path, program: str, workflow: dict[str, Any], models: dict[str, dict[str, Any]], *,
                 threads: int | None = None, check_only: bool = False, allowed_hosts: list[str] | None = None) -> None:
        if not Path(python).exists():
            raise EngineUnavailable(
                f"the Workflows Execution Engine backend needs the inference environment at {python} "
                "(create it with: bash deploy/local/inference-venv.sh)")
        env = {**os.environ, "PYTHONPATH": str(CODE_ROOT)}
        self._proc = subprocess.Popen([str(python), "-m", program], stdin=subprocess.PIPE,
                                      stdout=subprocess.PIPE, env=env, cwd=str(CODE_ROOT))
        self._lock = threading.Lock()
        config = {"workflow": workflow, "models": models, "threads": threads, "check_only": check_only,
                  "allowed_hosts": allowed_hosts or []}
        reply = self.exchange(json.dumps(config).encode())
        if "error" in reply:
            self.close()
            raise WorkflowInvalid(f"the Workflows Execution Engine refuses this workflow: {reply['error']}")

    @property
    def alive(self) -> bool:
        return self._proc.poll() is None

    def close(self) -> None:
        if self._proc.stdin and not self._proc.stdin.closed:
            self._proc.stdin.close()
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()

    def exchange(self, *frames: bytes) -> dict[str, Any]:
        with self._lock:
            assert self._proc.stdin is not None and self._proc.stdout is not None
            try:
                for frame in frames:
                    write_frame(self._proc.stdin, frame)
                reply = read_frame(self._proc.stdout)
            except (BrokenPipeError, OSError):
                reply = None
            if reply is None:
                raise EngineUnavailable(f"the Workflows Execution Engine process exited ({self._proc.poll()})")
            result: dict[str, Any] = json.loads(reply)
            return result


def check_with_engine(python: Path, workflow: dict[str, Any]) -> None:
    """Compile the workflow in the real engine (every block's manifest); raises WorkflowInvalid."""
    EngineProcess(python, __name__, workflow, {}, check_only=True).close()


def open_protocol() -> tuple[BinaryIO, BinaryIO, dict[str, Any]]:
    """In a host program: the protocol's streams (anything the engine prints goes to stderr, never into the
    protocol) and the configuration frame; the engine's environment and the SSRF guard are in place."""
    proto_out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    proto_in = sys.stdin.buffer
    config = json.loads(read_frame(proto_in) or b"{}")
    os.environ.update(ENGINE_ENV)
    guard_outbound(frozenset(config.get("allowed_hosts") or []))
    return proto_in, proto_out, config


def init_engine(workflow: dict[str, Any], model_manager: Any) -> Any:
    from inference.core.workflows.core_steps.common.entities import StepExecutionMode
    from inference.core.workflows.execution_engine.core import ExecutionEngine

    return ExecutionEngine.init(
        workflow_definition=workflow, prevent_local_images_loading=True,
        init_parameters={"workflows_core.model_manager": model_manager, "workflows_core.api_key": None,
                         "workflows_core.step_execution_mode": StepExecutionMode.LOCAL})


def image_input(workflow: dict[str, Any]) -> str:
    names = [i["name"] for i in workflow.get("inputs", []) if i.get("type") in ("WorkflowImage", "InferenceImage")]
    if len(names) != 1:
        raise ValueError(f"a batch workflow needs exactly one image input, this one has {len(names)}")
    return names[0]


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


def message(exc: BaseException) -> str:
    inner = getattr(exc, "inner_error", None) or exc.__cause__
    text = getattr(exc, "public_message", None) or str(exc) or type(exc).__name__
    if inner is not None and str(inner) and str(inner) not in text:
        text = f"{text}: {inner}"
    return text


class _NoModels:
    """A check compiles the definition only; no block runs, so no model is ever asked for."""

    def add_model(self, model_id: str, *args: Any, **kwargs: Any) -> None:
        raise KeyError(f"model {model_id!r}: a compile check loads no model")

    def infer_from_request_sync(self, model_id: str, *args: Any, **kwargs: Any) -> list[Any]:
        raise KeyError(f"model {model_id!r}: a compile check runs no model")


def main() -> None:
    """The check program: compile the definition of the configuration frame and answer ok or the error."""
    _, proto_out, config = open_protocol()
    try:
        workflow = config["workflow"]
        image_input(workflow)
        init_engine(workflow, _NoModels())
    except Exception as exc:
        write_frame(proto_out, json.dumps({"error": message(exc)}).encode())
        return
    write_frame(proto_out, b'{"ok": true}')


if __name__ == "__main__":
    main()
