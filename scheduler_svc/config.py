"""Settings of scheduler_svc (environment prefix `SCHEDULER_`)."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from shared.config import ServiceSettings


class SchedulerSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="SCHEDULER_", extra="ignore", populate_by_name=True)

    port: int = 8102
