"""Settings of notifier_svc (environment prefix `NOTIFIER_`)."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from shared.config import ServiceSettings


class NotifierSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="NOTIFIER_", extra="ignore", populate_by_name=True)

    port: int = 8105
