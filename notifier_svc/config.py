"""Settings of notifier_svc (environment prefix ``NOTIFIER_``)."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from shared.config import ServiceSettings


class NotifierSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="NOTIFIER_", extra="ignore", populate_by_name=True)

    port: int = 8105
    max_attempts: int = 8
    backoff_base_s: float = 2.0  # delay before attempt n+1: base * 2**(n-1), with full jitter, capped
    backoff_max_s: float = 600.0
    request_timeout_s: float = 10.0
    per_endpoint_concurrency: int = 4  # one slow receiver never takes more than this many slots
    max_in_flight: int = 64
    lease_s: float = 30.0  # a crashed notifier's deliveries are taken over after this
    poll_interval_s: float = 0.5
