"""Settings of notifier_svc (environment prefix ``NOTIFIER_``)."""

from __future__ import annotations

from pydantic import model_validator
from pydantic_settings import SettingsConfigDict

from shared.config import DEFAULT_PORTS, ServiceSettings


class NotifierSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="NOTIFIER_", extra="ignore", populate_by_name=True)

    port: int = DEFAULT_PORTS["notifier"]
    max_attempts: int = 8
    backoff_base_s: float = 2.0  # delay before attempt n+1: base * 2**(n-1), with equal jitter, capped
    backoff_max_s: float = 600.0
    # the total deadline of one attempt (connect, send, status line and headers; the body is never read):
    # shorter than the lease, so a slow receiver never sees a second attempt start beside the first
    request_timeout_s: float = 10.0
    per_endpoint_concurrency: int = 4  # one slow receiver never takes more than this many slots
    max_in_flight: int = 64
    lease_s: float = 30.0  # a crashed notifier's deliveries are taken over after this
    poll_interval_s: float = 0.5
    # after a rotation of a workspace's signing secret, the previous one signs beside it this long
    secret_rotation_grace_s: float = 86_400.0

    @model_validator(mode="after")
    def _deadline_within_lease(self) -> NotifierSettings:
        if self.request_timeout_s >= self.lease_s:
            raise ValueError(f"NOTIFIER_REQUEST_TIMEOUT_S ({self.request_timeout_s}) must be shorter than "
                             f"NOTIFIER_LEASE_S ({self.lease_s})")
        return self
