"""Settings of the gateway: where it listens, and where each service answers (another host in compose or
Kubernetes; the local defaults are the port map's)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.config import DEFAULT_PORTS, LogSettings


def _local(service: str) -> str:
    return f"http://127.0.0.1:{DEFAULT_PORTS[service]}"


class GatewaySettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    host: str = Field("127.0.0.1", validation_alias="CONVEYOR_GATEWAY_HOST")
    port: int = Field(DEFAULT_PORTS["gateway"], validation_alias="CONVEYOR_GATEWAY_PORT")
    upstream_ingest: str = Field(_local("ingest"), validation_alias="CONVEYOR_UPSTREAM_INGEST")
    upstream_scheduler: str = Field(_local("scheduler"), validation_alias="CONVEYOR_UPSTREAM_SCHEDULER")
    upstream_worker: str = Field(_local("worker"), validation_alias="CONVEYOR_UPSTREAM_WORKER")
    upstream_export: str = Field(_local("export"), validation_alias="CONVEYOR_UPSTREAM_EXPORT")
    upstream_notifier: str = Field(_local("notifier"), validation_alias="CONVEYOR_UPSTREAM_NOTIFIER")
    # bearer token /metrics asks for; unset, the gateway serves no metrics of the services
    metrics_token: str | None = Field(None, validation_alias="CONVEYOR_METRICS_TOKEN")
    # the documentation site built by `python -m deploy.docs.build` (site/ beside the code), served at /docs
    docs_dir: Path = Field(Path(__file__).resolve().parents[2] / "site", validation_alias="CONVEYOR_DOCS_DIR")
    logs: LogSettings = Field(default_factory=LogSettings)
    otel_endpoint: str | None = Field(None, validation_alias="OTEL_EXPORTER_OTLP_ENDPOINT")
    otel_service_name: str | None = Field(None, validation_alias="OTEL_SERVICE_NAME")
