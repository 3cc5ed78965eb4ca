"""Settings of worker_svc (environment prefix ``WORKER_``)."""

from __future__ import annotations

import os
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import SettingsConfigDict

from shared.config import DEFAULT_PORTS, ServiceSettings

NOT_OFFERED = {
    "int8": "post-training quantization (NNCF) of the default network matched about 70 % of the fp32 "
            "reference's detections at IoU >= 0.9, where the accuracy gate asks 97 %, and ran 1.25x bf16 "
            "model-only on a CPU with AMX; see README, Runtimes and precision (python -m bench.int8)",
    "tensorrt": "gpu workers run onnxruntime's CUDA execution provider in fp32 (no GPU was at hand to verify "
                "TensorRT's engines against it); see README, Runtimes and precision",
}


class WorkerSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="WORKER_", extra="ignore", populate_by_name=True)

    port: int = DEFAULT_PORTS["worker"]
    # the task topic this worker consumes: one process per machine type
    machine_type: Literal["cpu", "gpu"] = "cpu"
    # tasks run at once by this process (each uses onnxruntime's own thread pool)
    concurrency: int = 1
    # onnxruntime sessions serving each model at once (0: one per CPU core on cpu machines, one on gpu)
    inference_lanes: int = 0
    # onnxruntime intra-op threads of each session (0: the cores divided among the lanes)
    ort_threads: int = 0
    # let idle onnxruntime threads busy-wait for work (helps a dedicated inference box; on shared cores it
    # takes cycles from downloads and decodes)
    ort_spinning: bool = False
    # images per onnxruntime run, gathered from concurrent workflow runs (0: 1 on cpu, 8 on gpu)
    batch_size: int = 0
    # how long a model waits for more images before running a partial batch
    batch_wait_ms: float = 5.0
    # files downloaded and decoded ahead of inference
    prefetch: int = 8
    abort_check_interval_s: float = 1.0
    # a running task's heartbeat (the scheduler re-dispatches a task silent for SCHEDULER_TASK_STALL_S)
    heartbeat_interval_s: float = 5.0
    progress_interval_s: float = 1.0
    # how often this process tells the scheduler it is alive and which machine type it serves
    liveness_interval_s: float = 5.0
    model_cache_size: int = 4
    # the runtime models run on: onnxruntime (fp32, the reference), openvino (cpu), or auto: per model, the
    # fastest of those this machine has that passes the accuracy gate against the reference
    runtime: Literal["auto", "openvino", "onnxruntime"] = "auto"
    # the precision they compute in: auto tries what the runtime accelerates here (bf16 on CPUs with AMX or
    # AVX-512 BF16, fp16 with AVX-512 FP16) besides fp32; a precision set here is used as it is (no gate)
    precision: Literal["auto", "fp32", "bf16", "fp16"] = "auto"
    # images of a task's first ones the accuracy gate compares runtimes on
    gate_images: int = 32
    # decode JPEGs smaller (DCT scaling) where only models look at them and they are at least twice the
    # models' input in both sides; the boxes are mapped back to the full image
    reduced_decode: bool = True
    # shared models (registered for every workspace) loaded and run once on each lane when the worker starts,
    # so the first task after a deploy does not wait for them; ones not registered yet are waited for (the
    # scheduler registers the default model as it starts) up to preload_wait_s. [] turns this off.
    preload_models: list[str] = Field(default_factory=lambda: ["yolov4-tiny-coco"])  # the built-in model
    preload_wait_s: float = 120.0

    @field_validator("precision", "runtime", mode="before")
    @classmethod
    def _not_offered(cls, value: object) -> object:
        """Settings a user may expect from the issue of runtimes, refused with the reason (not a bare enum error)."""
        reason = NOT_OFFERED.get(str(value).lower()) if isinstance(value, str) else None
        if reason:
            raise ValueError(f"{value} is not offered: {reason}")
        return value

    @property
    def lanes(self) -> int:
        return self.inference_lanes or (1 if self.machine_type == "gpu" else os.cpu_count() or 1)

    @property
    def batch(self) -> int:
        return self.batch_size or (8 if self.machine_type == "gpu" else 1)

    @property
    def session_threads(self) -> int:
        return self.ort_threads or max(1, (os.cpu_count() or 1) // self.lanes)

    @property
    def in_flight(self) -> int:
        """Images a task keeps in its workflow at once: every lane's batch, and as many again being
        pre-processed (letterbox) and post-processed (NMS, serialisation) while the lanes run."""
        return 2 * self.lanes * self.batch
