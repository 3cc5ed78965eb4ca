"""Identifier rules of the public API (the same as Roboflow's)."""

from __future__ import annotations

import re
import secrets
import string

from shared.errors import InvalidInput

_ID_RE = re.compile(r"[a-z0-9_-]+")  # whole value (fullmatch): "$" would let a trailing newline through
BATCH_ID_MAX = 64
JOB_ID_MAX = 20
WORKSPACE_SLUG_MAX = 64


def _validate(kind: str, value: str, max_len: int) -> str:
    if not value:
        raise InvalidInput(f"{kind} must not be empty")
    if len(value) > max_len:
        raise InvalidInput(f"{kind} {value[:80]!r} is longer than {max_len} characters")
    if not _ID_RE.fullmatch(value):
        raise InvalidInput(
            f"{kind} {value[:80]!r} may contain only lower-case letters, digits, '-' and '_'"
        )
    return value


def looks_like_id(value: str, max_len: int = BATCH_ID_MAX) -> bool:
    """Whether ``value`` could name a batch or job at all: lookups of anything else are a 404 without a query
    (a NUL byte, say, would otherwise be an error of the database)."""
    return 0 < len(value) <= max_len and _ID_RE.fullmatch(value) is not None


def validate_batch_id(value: str) -> str:
    return _validate("batch id", value, BATCH_ID_MAX)


def validate_job_id(value: str) -> str:
    return _validate("job id", value, JOB_ID_MAX)


def validate_workspace_slug(value: str) -> str:
    return _validate("workspace", value, WORKSPACE_SLUG_MAX)


def random_suffix(n: int = 12) -> str:
    alphabet = string.ascii_lowercase + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(n))
