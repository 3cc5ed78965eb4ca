"""Settings of notifier_svc (environment prefix ``NOTIFIER_``)."""

from __future__ import annotations

from pydantic import model_validator
from pydantic_settings import SettingsConfigDict

from shared.config import DEFAULT_PORTS, ServiceSettings


class NotifierSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="NOTIFIER_", extra="ignore", populate_by_name=True)

    port: int = DEFAULT_PORTS["notifier"]
    max_attempts: int = 8
    # the delay before attempt n+1 is the n-th (the last one repeats past the end), +-10 % jitter: by default
    # Standard Webhooks' schedule (5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h), so 8 attempts span 27.6 hours
    # and a receiver down for a day's maintenance still gets every webhook
    retry_schedule_s: tuple[float, ...] = (5, 300, 1800, 7200, 18000, 36000, 36000)
    # the total deadline of one attempt (connect, send, status line and headers; the body is never read):
    # shorter than the lease, so a slow receiver never sees a second attempt start beside the first
    request_timeout_s: float = 10.0
    per_endpoint_concurrency: int = 4  # one slow receiver never takes more than this many slots
    max_in_flight: int = 64
    lease_s: float = 30.0  # a crashed notifier's deliveries are taken over after this
    poll_interval_s: float = 0.5
    # after a rotation of a workspace's signing secret, the previous one signs beside it this long
    secret_rotation_grace_s: float = 86_400.0

    def retry_delay_s(self, attempt: int) -> float:
        """How long after ``attempt`` failed the next one is due (before jitter)."""
        return self.retry_schedule_s[min(attempt, len(self.retry_schedule_s)) - 1]

    @model_validator(mode="after")
    def _deadline_within_lease(self) -> NotifierSettings:
        if not self.retry_schedule_s or min(self.retry_schedule_s) < 0:
            raise ValueError("NOTIFIER_RETRY_SCHEDULE_S is a non-empty JSON list of delays in seconds, none negative")
        if self.request_timeout_s >= self.lease_s:
            raise ValueError(f"NOTIFIER_REQUEST_TIMEOUT_S ({self.request_timeout_s}) must be shorter than "
                             f"NOTIFIER_LEASE_S ({self.lease_s})")
        return self
