"""Opaque ``nextPageToken`` values: a keyset cursor, base64url JSON that names its listing.

A token is only valid for the listing that issued it: one from another endpoint, a forged one or a
truncated one is a JSON 400, never a 500 or a listing silently started again from the top.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from shared.errors import InvalidInput

MAX_PAGE_SIZE = 1000


def encode_token(listing: str, cursor: dict[str, Any]) -> str:
    body = {"l": listing, **cursor}
    return base64.urlsafe_b64encode(json.dumps(body, separators=(",", ":")).encode()).decode().rstrip("=")


def integer(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError("not an integer")
    return value


def text(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("not a string")
    return value


def timestamp(value: Any) -> datetime:
    parsed = datetime.fromisoformat(text(value))
    if parsed.tzinfo is None:
        raise ValueError("no time zone")
    return parsed


def decode_token(token: str | None, listing: str, **fields: Callable[[Any], Any]) -> dict[str, Any] | None:
    """The cursor of ``token`` (None for the first page), each field parsed by its parser."""
    if not token:
        return None
    problem = InvalidInput(f"invalid nextPageToken: pass back the nextPageToken of this {listing} listing unchanged")
    try:
        cursor = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (ValueError, UnicodeDecodeError):
        raise problem from None
    if not isinstance(cursor, dict) or cursor.get("l") != listing or set(cursor) != {"l", *fields}:
        raise problem
    try:
        return {name: parse(cursor[name]) for name, parse in fields.items()}
    except (ValueError, TypeError):
        raise problem from None


def page_size(requested: int | None, default: int) -> int:
    if requested is None:
        return default
    if requested < 1:
        raise InvalidInput("pageSize must be at least 1")
    return min(requested, MAX_PAGE_SIZE)
