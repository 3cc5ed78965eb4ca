"""Settings of worker_svc (environment prefix ``WORKER_``)."""

from __future__ import annotations

from typing import Literal

from pydantic_settings import SettingsConfigDict

from shared.config import ServiceSettings


class WorkerSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="WORKER_", extra="ignore", populate_by_name=True)

    port: int = 8103
    # the task topic this worker consumes: one process per machine type
    machine_type: Literal["cpu", "gpu"] = "cpu"
    # tasks run at once by this process (each uses onnxruntime's own thread pool)
    concurrency: int = 1
    # onnxruntime intra-op threads (0: onnxruntime's default, one per core)
    ort_threads: int = 0
    # files downloaded and decoded ahead of inference
    prefetch: int = 8
    abort_check_interval_s: float = 1.0
    # a running task's heartbeat (the scheduler re-dispatches a task silent for SCHEDULER_TASK_STALL_S)
    heartbeat_interval_s: float = 5.0
    progress_interval_s: float = 1.0
    model_cache_size: int = 4
