"""The worker's side of the Workflows Execution Engine backend: one long-lived ``engine_host`` process.

Workflows are compiled in it once under a key of (workflow, model files) and reused by every task that runs
them; images go to it as raw pixels and come back as the engine's own serialised outputs, with image outputs
turned into ``EncodedImage`` values so the worker persists them like the built-in executor's. A host that died is
started again on the next request, and a workflow it no longer holds is loaded again.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from pathlib import Path
from typing import Any

import numpy as np

from shared.workflows.errors import WorkflowRunFailed
from shared.workflows.roboflow_engine import EngineProcess
from worker_svc.workflows.values import EncodedImage
from worker_svc.workflows.video_state import VideoFrame, still_image

HOST_PROGRAM = "worker_svc.workflows.engine_host"


def workflow_key(workflow: dict[str, Any], models: dict[str, dict[str, Any]]) -> str:
    return hashlib.sha256(json.dumps([workflow, models], sort_keys=True).encode()).hexdigest()


class EngineHost:
    def __init__(self, python: Path, *, threads: int | None = None, allowed_hosts: list[str] | None = None) -> None:
        self.python = python
        self.threads = threads
        self.allowed_hosts = allowed_hosts
        self._process: EngineProcess | None = None
        self._lock = threading.Lock()

    def process(self) -> EngineProcess:
        with self._lock:
            if self._process is None or not self._process.alive:
                self._process = EngineProcess(self.python, HOST_PROGRAM, threads=self.threads,
                                              allowed_hosts=self.allowed_hosts)
            return self._process

    def load(self, workflow: dict[str, Any], models: dict[str, dict[str, Any]]) -> EngineWorkflow:
        """Compile ``workflow`` with ``models`` (id -> file) in the host; raises WorkflowInvalid."""
        loaded = EngineWorkflow(self, workflow, models)
        loaded.load()
        return loaded

    def close(self) -> None:
        with self._lock:
            if self._process is not None:
                self._process.close()
                self._process = None


class EngineWorkflow:
    """One workflow compiled in the host."""

    def __init__(self, host: EngineHost, workflow: dict[str, Any], models: dict[str, dict[str, Any]]) -> None:
        self.host = host
        self.workflow = workflow
        self.models = models
        self.key = workflow_key(workflow, models)

    def load(self) -> None:
        self.host.process().compile({"op": "load", "key": self.key, "workflow": self.workflow, "models": self.models})

    def run(self, image_bgr: np.ndarray, parameters: dict[str, Any], parent_id: str = "image",
            frame: VideoFrame | None = None) -> dict[str, Any]:
        """``frame``: the video frame the image is; its metadata keys the engine's per-video block state (a
        still image is a video of one frame of its own)."""
        image = np.ascontiguousarray(image_bgr, dtype=np.uint8)
        metadata = (frame or still_image(parent_id)).engine_metadata()
        head = json.dumps({"op": "run", "key": self.key, "parameters": parameters, "shape": list(image.shape),
                           "parent_id": parent_id, "video_metadata": metadata}).encode()
        pixels = image.tobytes()
        reply = self.host.process().exchange(head, pixels)
        if reply.get("missing"):  # a host started again, or one that dropped this workflow for others
            self.load()
            reply = self.host.process().exchange(head, pixels)
        if "error" in reply:
            raise WorkflowRunFailed(reply["error"])
        return {name: _images_encoded(value) for name, value in reply["outputs"].items()}


def _images_encoded(value: Any) -> Any:
    if isinstance(value, dict):
        if value.get("type") == "base64" and isinstance(value.get("value"), str):
            return EncodedImage(base64.b64decode(value["value"]))
        return {k: _images_encoded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_images_encoded(v) for v in value]
    return value
