"""Settings of export_svc (environment prefix ``EXPORT_``)."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from shared.config import DEFAULT_PORTS, ServiceSettings


class ExportSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="EXPORT_", extra="ignore", populate_by_name=True)

    port: int = DEFAULT_PORTS["export"]
    # an archive is closed once its inputs pass this size; results are never split across archives
    max_archive_bytes: int = 512 * 1024 * 1024
