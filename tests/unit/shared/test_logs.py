"""Repeated failures are logged once with their traceback, then once a window with a count."""

import logging

from shared.logs import RepeatFilter


def _record(msg: str, exc: BaseException | None = None) -> logging.LogRecord:
    info = (type(exc), exc, None) if exc else None
    return logging.LogRecord("svc", logging.ERROR, __file__, 1, msg, None, info)


def test_a_burst_of_the_same_failure_is_one_line_then_a_count() -> None:
    now = [0.0]
    repeat = RepeatFilter(window_s=60, clock=lambda: now[0])
    outage = ConnectionRefusedError("db down")
    assert repeat.filter(_record("request failed", outage)) is True  # the first, with its traceback
    for t in range(1, 500):
        now[0] = t * 0.1
        assert repeat.filter(_record("request failed", outage)) is False
    assert repeat.filter(_record("another failure")) is True  # another kind is not held back
    now[0] = 61.0
    later = _record("request failed", outage)
    assert repeat.filter(later) is True and later.exc_info is None
    assert later.getMessage() == "request failed (and 499 more like it in the last 60s)"
    info = logging.LogRecord("svc", logging.INFO, __file__, 1, "request failed", None, None)
    assert all(repeat.filter(info) for _ in range(3))  # below warning: never held back
