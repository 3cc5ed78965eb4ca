"""A delivery's fate after an attempt, on plain inputs: what the receiver's answer means, whether the delivery
waits for another attempt or is given up, and when the next attempt is due (``notifier_svc.service`` asks)."""

from __future__ import annotations

import contextlib
import random
from typing import Literal

from notifier_svc.config import NotifierSettings

# answers that say "later": a timeout, too early, too many requests (and every 5xx)
RETRYABLE = {408, 425, 429}
Outcome = Literal["delivered", "retry", "failed"]


def outcome_of(status_code: int) -> Outcome:
    """A 2xx is delivered; a retryable answer or a 5xx is tried again; anything else (a redirect, which is not
    followed, or another 4xx) fails the delivery at once."""
    if 200 <= status_code < 300:
        return "delivered"
    return "retry" if status_code in RETRYABLE or status_code >= 500 else "failed"


def status_after(outcome: Outcome, attempt: int, max_attempts: int) -> Literal["delivered", "pending", "dead",
                                                                                 "failed"]:
    """The delivery's status once attempt ``attempt`` ended with ``outcome``: a retry past the last attempt is
    dead (a dead letter, to redeliver by hand)."""
    if outcome != "retry":
        return outcome
    return "dead" if attempt >= max_attempts else "pending"


def backoff_s(attempt: int, settings: NotifierSettings, retry_after: str | None = None) -> float:
    """Delay before the next attempt: the receiver's Retry-After (seconds, at most the schedule's longest
    delay), else the schedule's delay after ``attempt`` with +-10 % jitter, so that deliveries failed together
    do not all come back in the same instant."""
    if retry_after:
        with contextlib.suppress(ValueError):
            return min(max(settings.retry_schedule_s), max(0.0, float(retry_after)))
    return settings.retry_delay_s(attempt) * random.uniform(0.9, 1.1)
