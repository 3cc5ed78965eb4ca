"""The worker's side of the Workflows Execution Engine backend: a long-lived ``engine_host`` process.

One process per (workflow, models) pair, started in the ``inference`` virtual environment; images go to it as
raw pixels and come back as the engine's own serialised outputs, with image outputs turned into
``EncodedImage`` values so the worker persists them like the built-in executor's.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import numpy as np

from shared.workflows.errors import WorkflowRunFailed
from shared.workflows.roboflow_engine import EngineProcess
from worker_svc.workflows.values import EncodedImage
from worker_svc.workflows.video_state import VideoFrame, still_image


class EngineRunner(EngineProcess):
    def __init__(self, python: Path, workflow: dict[str, Any], models: dict[str, dict[str, Any]], *,
                 threads: int | None = None, allowed_hosts: list[str] | None = None) -> None:
        super().__init__(python, "worker_svc.workflows.engine_host", workflow, models, threads=threads,
                         allowed_hosts=allowed_hosts)

    def run(self, image_bgr: np.ndarray, parameters: dict[str, Any], parent_id: str = "image",
            frame: VideoFrame | None = None) -> dict[str, Any]:
        """``frame``: the video frame the image is; its metadata keys the engine's per-video block state (a
        still image is a video of one frame of its own)."""
        image = np.ascontiguousarray(image_bgr, dtype=np.uint8)
        metadata = (frame or still_image(parent_id)).engine_metadata()
        head = json.dumps({"parameters": parameters, "shape": list(image.shape), "parent_id": parent_id,
                           "video_metadata": metadata}).encode()
        reply = self.exchange(head, image.tobytes())
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
