"""Peer: Roboflow inference-cli's local ``workflows process-images-directory`` on the same images and model.

The command is the real one from ``.venv-inference-peer`` (``bench/peers/setup.sh``) with ``--processing_target
inference_package``: the Workflows Execution Engine in the CLI's process, nothing hosted. Offline, inference
finds its model in its own cache (``MODEL_CACHE_DIR``): the default YOLOv4-tiny network re-headed to the
YOLOv8 output layout (``bench.heads``), which inference runs as a ``yolov8`` object-detection model
with its own decode, letterbox, onnxruntime session and NMS. The workflow is Conveyor's benchmark workflow
(detection + count) with that model id. Timed: the whole command, as a user runs it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

from bench.common import DATA
from bench.heads import with_yolov8_head
from scheduler_svc.default_model import DEFAULT_INPUT_SIZE, ensure_default_model
from shared.config import REPO_ROOT, ServiceSettings

VENV = REPO_ROOT / ".venv-inference-peer"
# offline, no telemetry, no code from workflow definitions
ENGINE_ENV = {
    "ALLOW_CUSTOM_PYTHON_EXECUTION_IN_WORKFLOWS": "False", "DISABLE_VERSION_CHECK": "True",
    "ENABLE_PROMETHEUS": "False", "METRICS_ENABLED": "False", "DISABLE_INFERENCE_CACHE": "True",
    "WORKFLOWS_STEP_EXECUTION_MODE": "local", "ACTIVE_LEARNING_ENABLED": "False", "LOG_LEVEL": "WARNING",
    "ALLOW_WORKFLOW_BLOCKS_ACCESSING_LOCAL_STORAGE": "False",
    "ALLOW_WORKFLOW_BLOCKS_ACCESSING_ENVIRONMENTAL_VARIABLES": "False",
}
MODEL_ID = "conveyor-bench/1"


def available() -> bool:
    return (VENV / "bin" / "inference").exists()


def _model_cache(root: Path) -> Path:
    model = ensure_default_model(ServiceSettings().cache_dir / "models")
    folder = root / MODEL_ID
    with_yolov8_head(model.onnx_path, folder / "weights.onnx")
    (folder / "class_names.txt").write_text("\n".join(model.class_names) + "\n")
    size = DEFAULT_INPUT_SIZE
    environment = {"PREPROCESSING": {"auto-orient": {"enabled": False},
                                     "resize": {"enabled": True, "format": "Fit (black edges) in",
                                                "width": size, "height": size}},
                   "CLASS_MAP": {str(i): n for i, n in enumerate(model.class_names)}}
    (folder / "environment.json").write_text(json.dumps(environment))
    (folder / "model_type.json").write_text(json.dumps({"project_task_type": "object-detection",
                                                         "model_type": "yolov8n"}))
    return root


def workflow(steps: list[dict[str, Any]], outputs: list[dict[str, Any]]) -> dict[str, Any]:
    """Conveyor's benchmark workflow with inference's model id."""
    steps = [{**s, "model_id": MODEL_ID} if "model_id" in s else s for s in steps]
    return {"version": "1.0", "inputs": [{"type": "WorkflowImage", "name": "image"},
                                         {"type": "WorkflowParameter", "name": "confidence", "default_value": 0.35}],
            "steps": steps, "outputs": outputs}


def run(images_dir: Path, spec: dict[str, Any], count: int) -> dict[str, Any]:
    work = DATA / "inference-cli"
    shutil.rmtree(work, ignore_errors=True)
    cache = _model_cache(work / "cache")
    (work / "workflow.json").write_text(json.dumps(spec))
    env = {**os.environ, **ENGINE_ENV, "MODEL_CACHE_DIR": str(cache), "ONNXRUNTIME_EXECUTION_PROVIDERS":
           "[CPUExecutionProvider]", "ROBOFLOW_API_KEY": "", "API_KEY": "", "COLUMNS": "250"}
    command = [str(VENV / "bin" / "inference"), "workflows", "process-images-directory", "-i", str(images_dir),
               "-o", str(work / "out"), "-ws", str(work / "workflow.json"), "-pt", "inference_package",
               "--no_save_image_outputs", "--aggregation_format", "jsonl", "--debug_mode"]
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, cwd=work)
    seconds = time.perf_counter() - started
    results = list((work / "out").glob("aggregated_results*.jsonl"))
    if done.returncode != 0 or not results:
        raise RuntimeError(f"inference-cli failed ({done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    records = [json.loads(line) for line in results[0].read_text().splitlines() if line.strip()]
    if len(records) != count:
        raise RuntimeError(f"inference-cli wrote {len(records)} results for {count} images:\n{done.stdout[-12000:]}")
    return {"seconds": seconds, "images_per_s": count / seconds, "detections": sum(_count(r) for r in records)}


def _count(record: dict[str, Any]) -> int:
    value = record.get("count")
    return int(value) if isinstance(value, (int, float, str)) and str(value).isdigit() else 0
