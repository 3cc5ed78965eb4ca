"""The worker's side of the Workflows Execution Engine backend: a long-lived ``engine_host`` process.

One process per (workflow, models) pair, started in the ``inference`` virtual environment; images go to it as
raw pixels and come back as the engine's own serialised outputs, with image outputs turned into
``EncodedImage`` values so the worker persists them like the built-in executor's.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import threading
from pathlib import Path
from typing import Any

import numpy as np

from shared.config import REPO_ROOT
from shared.workflows.engine_host import read_frame, write_frame
from shared.workflows.errors import WorkflowInvalid, WorkflowRunFailed
from shared.workflows.values import EncodedImage

START_TIMEOUT_S = 180.0


class EngineUnavailable(RuntimeError):
    """The ``inference`` environment is missing or its host process died."""


class EngineProcess:
    def __init__(self, python: Path, workflow: dict[str, Any], models: dict[str, dict[str, Any]], *,
                 threads: int | None = None, check_only: bool = False, allowed_hosts: list[str] | None = None) -> None:
        if not Path(python).exists():
            raise EngineUnavailable(
                f"the Workflows Execution Engine backend needs the inference environment at {python} "
                "(create it with: bash deploy/local/inference-venv.sh)")
        env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
        self._proc = subprocess.Popen([str(python), "-m", "shared.workflows.engine_host"], stdin=subprocess.PIPE,
                                      stdout=subprocess.PIPE, env=env, cwd=str(REPO_ROOT))
        self._lock = threading.Lock()
        config = {"workflow": workflow, "models": models, "threads": threads, "check_only": check_only,
                  "allowed_hosts": allowed_hosts or []}
        reply = self._exchange(json.dumps(config).encode())
        if "error" in reply:
            self.close()
            raise WorkflowInvalid(f"the Workflows Execution Engine refuses this workflow: {reply['error']}")

    @property
    def alive(self) -> bool:
        return self._proc.poll() is None

    def run(self, image_bgr: np.ndarray, parameters: dict[str, Any]) -> dict[str, Any]:
        image = np.ascontiguousarray(image_bgr, dtype=np.uint8)
        head = json.dumps({"parameters": parameters, "shape": list(image.shape)}).encode()
        reply = self._exchange(head, image.tobytes())
        if "error" in reply:
            raise WorkflowRunFailed(reply["error"])
        return {name: _images_encoded(value) for name, value in reply["outputs"].items()}

    def close(self) -> None:
        if self._proc.stdin and not self._proc.stdin.closed:
            self._proc.stdin.close()
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()

    def _exchange(self, *frames: bytes) -> dict[str, Any]:
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
            return json.loads(reply)


def check_with_engine(python: Path, workflow: dict[str, Any]) -> None:
    """Compile the workflow in the real engine (every block's manifest); raises WorkflowInvalid."""
    EngineProcess(python, workflow, {}, check_only=True).close()


def _images_encoded(value: Any) -> Any:
    if isinstance(value, dict):
        if value.get("type") == "base64" and isinstance(value.get("value"), str):
            return EncodedImage(base64.b64decode(value["value"]))
        return {k: _images_encoded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_images_encoded(v) for v in value]
    return value
