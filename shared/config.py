"""Typed settings fragments shared by every service.

Each service owns one ``BaseSettings`` subclass (``<svc>/config.py``) composed from these fragments.
The fragments read the conventional variable names (``DATABASE_URL``, ``KAFKA_BOOTSTRAP_SERVERS``,
``S3_ENDPOINT_URL``, ``AWS_*``) so the same environment drives the local stack, the tests and a real
deployment. Settings are built once at startup and passed down; nothing reads ``os.environ`` elsewhere.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parents[1]
_PLAIN = SettingsConfigDict(extra="ignore", populate_by_name=True)


class PostgresSettings(BaseSettings):
    model_config = _PLAIN

    url: str = Field("postgresql://postgres@127.0.0.1:25432/postgres", validation_alias="DATABASE_URL")
    pool_min_size: int = Field(1, validation_alias="DATABASE_POOL_MIN")
    pool_max_size: int = Field(10, validation_alias="DATABASE_POOL_MAX")


class KafkaSettings(BaseSettings):
    model_config = _PLAIN

    bootstrap_servers: str = Field("127.0.0.1:29092", validation_alias="KAFKA_BOOTSTRAP_SERVERS")
    # Every topic name is "<topic_prefix>.<suffix>", so tests and tenants of one cluster stay apart.
    topic_prefix: str = Field("conveyor", validation_alias="KAFKA_TOPIC_PREFIX")
    # of the topics a service creates when they are missing: 1 for a single broker, 3 on a production cluster
    replication_factor: int = Field(1, ge=1, validation_alias="KAFKA_REPLICATION_FACTOR")
    session_timeout_ms: int = Field(10_000, validation_alias="KAFKA_SESSION_TIMEOUT_MS")
    heartbeat_interval_ms: int = Field(3_000, validation_alias="KAFKA_HEARTBEAT_INTERVAL_MS")
    max_poll_interval_ms: int = Field(600_000, validation_alias="KAFKA_MAX_POLL_INTERVAL_MS")
    # how long a consumer's fetch waits on the broker for new events: Apache Kafka answers as soon as one
    # arrives, so a longer wait only saves idle round trips there; Tansu answers later the longer it is
    fetch_max_wait_ms: int = Field(500, validation_alias="KAFKA_FETCH_MAX_WAIT_MS")


class S3Settings(BaseSettings):
    model_config = _PLAIN

    endpoint_url: str | None = Field("http://127.0.0.1:28333", validation_alias="S3_ENDPOINT_URL")
    # none published: the local stack makes its own (CONVEYOR_HOME/credentials.json); unset, the AWS chain
    access_key_id: str | None = Field(None, validation_alias="AWS_ACCESS_KEY_ID")
    secret_access_key: str | None = Field(None, validation_alias="AWS_SECRET_ACCESS_KEY")
    region: str = Field("us-east-1", validation_alias="AWS_DEFAULT_REGION")
    staging_bucket: str = Field("staging", validation_alias="S3_STAGING_BUCKET")
    models_bucket: str = Field("models", validation_alias="S3_MODELS_BUCKET")
    staging_expiry: timedelta = Field(timedelta(days=7), validation_alias="STAGING_EXPIRY")
    presign_expiry: timedelta = Field(timedelta(hours=1), validation_alias="PRESIGN_EXPIRY")


# The port map: every process's default port, read by the settings classes and the local supervisor alike.
DEFAULT_PORTS: dict[str, int] = {"gateway": 8000, "ingest": 8101, "scheduler": 8102, "worker": 8103,
                                 "export": 8104, "notifier": 8105}


class LogSettings(BaseSettings):
    model_config = _PLAIN

    level: str = Field("info", validation_alias="CONVEYOR_LOG_LEVEL")
    # JSON lines (for the platform's collector) or plain text lines
    format: Literal["json", "text"] = Field("json", validation_alias="CONVEYOR_LOG_FORMAT")
    # a file of its own, rotated; unset: stderr
    file: str | None = Field(None, validation_alias="CONVEYOR_LOG_FILE")


class ServiceSettings(BaseSettings):
    """Base of every service's settings: infrastructure fragments plus the public identity."""

    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    postgres: PostgresSettings = Field(default_factory=PostgresSettings)
    kafka: KafkaSettings = Field(default_factory=KafkaSettings)
    s3: S3Settings = Field(default_factory=S3Settings)
    logs: LogSettings = Field(default_factory=LogSettings)
    # Base URL clients use (the gateway); signed upload/download links point here.
    public_url: str = Field("http://127.0.0.1:8000", validation_alias="CONVEYOR_PUBLIC_URL")
    # HMAC secret of self-authorising links (uploads, downloads), read by ingest, which refuses to start without
    # one; `conveyor up` makes one per installation (CONVEYOR_HOME/signing_secret). No default: a public one
    # would let anyone mint links to any workspace's files.
    signing_secret: str | None = Field(None, validation_alias="CONVEYOR_SIGNING_SECRET")
    # bearer token that /metrics asks for (the counts span every workspace); `conveyor up` makes one
    metrics_token: str | None = Field(None, validation_alias="CONVEYOR_METRICS_TOKEN")
    cache_dir: Path = Field(Path.home() / ".cache" / "conveyor", validation_alias="CONVEYOR_CACHE_DIR")
    # host:port pairs webhooks may target although not public (a receiver on the same host or network);
    # every other non-public address is refused (SSRF protection)
    webhook_allowed_hosts: list[str] = Field(default_factory=list, validation_alias="CONVEYOR_WEBHOOK_ALLOWED_HOSTS")
    # who runs workflows: the built-in core blocks, or Roboflow's Workflows Execution Engine (every block of
    # the ``inference`` package) in the interpreter of its own virtual environment
    workflow_backend: Literal["builtin", "inference"] = Field("builtin", validation_alias="CONVEYOR_WORKFLOW_BACKEND")
    inference_python: Path = Field(REPO_ROOT / ".venv-inference" / "bin" / "python",
                                   validation_alias="CONVEYOR_INFERENCE_PYTHON")
    # published outbox rows are deleted after this long (the relay purges them)
    outbox_retention_s: float = Field(86_400.0, validation_alias="CONVEYOR_OUTBOX_RETENTION_S")
    # OpenTelemetry's own variables: where spans go over OTLP/HTTP (no tracing without it), and under what name
    otel_endpoint: str | None = Field(None, validation_alias="OTEL_EXPORTER_OTLP_ENDPOINT")
    otel_service_name: str | None = Field(None, validation_alias="OTEL_SERVICE_NAME")
    # where this process listens (``<SVC>_HOST``; each service's class sets its ``<SVC>_PORT`` from
    # DEFAULT_PORTS); a container listens on 0.0.0.0
    host: str = "127.0.0.1"
