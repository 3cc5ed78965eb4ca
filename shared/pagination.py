"""Opaque ``nextPageToken`` values: a keyset cursor, base64url JSON. A forged token is a 400."""

from __future__ import annotations

import base64
import json
from typing import Any

from shared.errors import InvalidInput

MAX_PAGE_SIZE = 1000


def encode_token(cursor: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(cursor, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_token(token: str | None) -> dict[str, Any] | None:
    if not token:
        return None
    try:
        cursor = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except ValueError:
        raise InvalidInput("invalid nextPageToken") from None
    if not isinstance(cursor, dict):
        raise InvalidInput("invalid nextPageToken")
    return cursor


def page_size(requested: int | None, default: int) -> int:
    if requested is None:
        return default
    if requested < 1:
        raise InvalidInput("pageSize must be at least 1")
    return min(requested, MAX_PAGE_SIZE)
