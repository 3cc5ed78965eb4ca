"""Settings of scheduler_svc (environment prefix ``SCHEDULER_``)."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from shared.config import ServiceSettings


class SchedulerSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="SCHEDULER_", extra="ignore", populate_by_name=True)

    port: int = 8102
    # images per task: a task should be seconds of work, so progress, retries and aborts stay fine-grained
    images_per_task: int = 64
    max_task_attempts: int = 3
    default_timeout_s: int = 6 * 3600
    default_max_parallel_tasks: int = 64
    default_workers_per_machine: int = 4
    timeout_check_interval_s: float = 1.0
    register_default_model: bool = True
    # how often queue depth/lag and job counts are sampled for /metrics
    metrics_interval_s: float = 5.0
    # a running task without a worker heartbeat for this long is dispatched again (workers beat every few s)
    task_stall_s: float = 120.0
