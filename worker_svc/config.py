"""Settings of worker_svc (environment prefix `WORKER_`)."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from shared.config import ServiceSettings


class WorkerSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="WORKER_", extra="ignore", populate_by_name=True)

    port: int = 8103
