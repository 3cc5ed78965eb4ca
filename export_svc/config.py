"""Settings of export_svc (environment prefix `EXPORT_`)."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from shared.config import ServiceSettings


class ExportSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="EXPORT_", extra="ignore", populate_by_name=True)

    port: int = 8104
