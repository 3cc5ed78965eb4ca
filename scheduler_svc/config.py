"""Settings of scheduler_svc (environment prefix ``SCHEDULER_``)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from scheduler_svc.repository import MAX_TASKS
from shared.config import DEFAULT_PORTS, ServiceSettings


class SchedulerSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="SCHEDULER_", extra="ignore", populate_by_name=True)

    port: int = DEFAULT_PORTS["scheduler"]
    # images per task: a task should be seconds of work, so progress, retries and aborts stay fine-grained
    images_per_task: int = 64
    # a huge batch gets larger tasks rather than more of them: each task costs the same few round trips to
    # PostgreSQL and Kafka whatever its size, which at a million files would outweigh the files' own cost
    # (bench.scale); tasks grow past images_per_task only where a batch would need more than this many
    max_tasks_per_stage: int = Field(1000, ge=1, le=999_999)  # repository.MAX_TASKS
    max_task_attempts: int = 3
    default_timeout_s: int = 6 * 3600
    default_max_parallel_tasks: int = 64
    # workersPerMachine when a job names none; 0: each worker's own default (WORKER_* settings, see README)
    default_workers_per_machine: int = 0
    timeout_check_interval_s: float = 1.0
    register_default_model: bool = True
    # an uploaded model is loaded and run once in a child process of at most this much heap beside four times
    # its size, for at most this long (scheduler_svc/model_inspection.py)
    model_check_memory_mb: int = 768
    model_check_timeout_s: float = 120.0
    # how often queue depth/lag and job counts are sampled for /metrics
    metrics_interval_s: float = 5.0
    # a running task without a worker heartbeat for this long is dispatched again (workers beat every few s)
    task_stall_s: float = 120.0
    # a job asks for a machine type that no live worker serves (a gpu job on a cpu-only deployment):
    # "cpu" runs it on cpu workers and says so in its logs; "fail" refuses it when it is created, and fails
    # it once its tasks have waited queue_wait_s with no worker of its type
    unserved_machine_type: Literal["cpu", "fail"] = "cpu"
    # a worker process is live while its last heartbeat (every WORKER_LIVENESS_INTERVAL_S) is this recent
    worker_liveness_s: float = 30.0
    # how long a job's queued tasks may wait while no worker of its machine type is live
    queue_wait_s: float = 300.0
    # estimates (POST .../jobs/estimate): the tasks of the sample run, how long the request waits for them (the
    # sample's cumulative runtime is held to the same), and the price of a machine-hour per machine type, in
    # cost_unit (no price: the estimate gives machine-hours and no cost)
    estimate_sample_tasks: int = Field(6, ge=1, le=64)
    estimate_wait_s: float = Field(120.0, gt=0)
    machine_hour_prices: dict[Literal["cpu", "gpu"], float] = Field(default_factory=dict)
    cost_unit: str = "credits"

    def task_size(self, kind: str) -> tuple[int, int]:
        """Files a task takes, and the most tasks a stage is split into (then they grow instead): a video is a
        task whatever the batch's size, its frames are the work."""
        return (1, MAX_TASKS) if kind == "videos" else (self.images_per_task, self.max_tasks_per_stage)
