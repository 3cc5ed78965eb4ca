"""A webhook delivery's fate after each attempt, on plain inputs: the answer's meaning, the retries up to the last
attempt, and the schedule (Standard Webhooks' by default, a receiver's Retry-After within it)."""

import pytest

from notifier_svc.config import NotifierSettings
from notifier_svc.schedule import backoff_s, outcome_of, status_after


@pytest.mark.parametrize(("code", "outcome"), [
    (200, "delivered"), (204, "delivered"), (299, "delivered"),
    (301, "failed"), (307, "failed"),  # redirects are not followed
    (400, "failed"), (401, "failed"), (404, "failed"), (410, "failed"),
    (408, "retry"), (425, "retry"), (429, "retry"), (500, "retry"), (502, "retry"), (503, "retry"),
])
def test_what_an_answer_means(code: int, outcome: str) -> None:
    assert outcome_of(code) == outcome


def test_a_retry_waits_until_the_last_attempt_then_is_dead() -> None:
    assert status_after("retry", 1, 8) == "pending"
    assert status_after("retry", 7, 8) == "pending"
    assert status_after("retry", 8, 8) == "dead"
    assert status_after("delivered", 8, 8) == "delivered" and status_after("failed", 1, 8) == "failed"


def test_the_default_schedule_outlasts_a_day_of_receiver_downtime() -> None:
    settings = NotifierSettings(CONVEYOR_SIGNING_SECRET="x" * 32)
    delays = [settings.retry_delay_s(attempt) for attempt in range(1, settings.max_attempts)]
    assert delays == [5, 300, 1800, 7200, 18000, 36000, 36000]
    assert sum(delays) / 3600 > 24  # 8 attempts span 27.6 hours
    assert settings.retry_delay_s(20) == 36000  # past the end, the last delay repeats


def test_each_delay_has_its_jitter_and_a_receiver_s_retry_after_within_the_schedule() -> None:
    settings = NotifierSettings(CONVEYOR_SIGNING_SECRET="x" * 32)
    delays = {backoff_s(2, settings) for _ in range(50)}
    assert all(270 <= d <= 330 for d in delays) and len(delays) > 1  # 300 s +-10 %
    assert backoff_s(2, settings, "17") == 17.0
    assert backoff_s(2, settings, "999999") == 36000  # at most the longest delay
    assert backoff_s(2, settings, "-5") == 0.0
    assert 270 <= backoff_s(2, settings, "Wed, 21 Oct 2026 07:28:00 GMT") <= 330  # a date: the schedule's
