"""Structured logs: one JSON object per line, carrying the job, task, batch and workspace being worked on.

Handlers bind ids with ``bound(job_id=..., task_id=...)``; every record logged inside (including from
libraries) carries them. ``CONVEYOR_LOG_FORMAT=text`` gives plain lines for a terminal; ``CONVEYOR_LOG_FILE``
writes to a rotating file (``conveyor up`` does, under ``CONVEYOR_HOME/logs``) instead of stderr.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import logging.handlers
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from shared.config import LogSettings

_context: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar("conveyor_log_context", default=None)


@contextlib.contextmanager
def bound(**ids: Any) -> Iterator[None]:
    token = _context.set({**(_context.get() or {}), **{k: v for k, v in ids.items() if v is not None}})
    try:
        yield
    finally:
        _context.reset(token)


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(), "service": self.service, "logger": record.name,
            "message": record.getMessage(), **(_context.get() or {}),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


class RepeatFilter(logging.Filter):
    """One line per repeated failure: the first record of a kind (logger, level, message, exception type) passes
    with its traceback; the same again within ``window_s`` is counted, not written; the next one after the
    window passes without its traceback, saying how many were held back. A five-minute database outage is a
    few lines, not hundreds of megabytes of identical tracebacks."""

    def __init__(self, window_s: float = 60.0, clock: Any = None) -> None:
        super().__init__()
        self.window_s = window_s
        self.clock = clock or time.monotonic
        self._seen: dict[tuple[Any, ...], tuple[float, int]] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return True
        kind = (record.name, record.levelno, str(record.msg)[:200],
                record.exc_info[0].__name__ if record.exc_info and record.exc_info[0] else None)
        now = self.clock()
        first, held = self._seen.get(kind, (None, 0))
        if first is None:
            self._seen[kind] = (now, 0)
            return True
        if now - first < self.window_s:
            self._seen[kind] = (first, held + 1)
            return False
        self._seen[kind] = (now, 0)
        if held:
            record.msg = f"{record.msg} (and {held} more like it in the last {self.window_s:.0f}s)"
        record.exc_info, record.exc_text = None, None  # its traceback was written the first time
        if len(self._seen) > 10_000:
            self._seen.clear()
        return True


def configure_logging(service: str, settings: LogSettings) -> None:
    path, level = settings.file, settings.level
    # a file of its own rotates (4 x 50 MB at most); otherwise stderr, which the platform collects
    handler: logging.Handler = (logging.handlers.RotatingFileHandler(path, maxBytes=50 * 1024 * 1024, backupCount=3)
                                if path else logging.StreamHandler(sys.stderr))
    handler.addFilter(RepeatFilter())
    if settings.format == "text":
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    else:
        handler.setFormatter(JsonFormatter(service))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    for chatty in ("faststream", "aiokafka", "botocore", "aiobotocore", "httpx"):  # one line per message/request
        logging.getLogger(chatty).setLevel(max(logging.WARNING, root.level))
