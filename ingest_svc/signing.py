"""Self-authorising links: an HMAC-SHA256-signed, expiring claim set, URL-safe.

Upload and download URLs handed to clients carry such a token instead of an API key (inference-cli
fetches ``downloadURL``s and PUTs to ``uploadURL``s without one). Tampering or expiry is a 403.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

from shared.errors import Forbidden


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign(secret: str, claims: dict[str, Any], ttl_s: int) -> str:
    body = _b64(json.dumps({**claims, "exp": int(time.time()) + ttl_s}, separators=(",", ":")).encode())
    mac = hmac.new(secret.encode(), body.encode(), hashlib.sha256).digest()
    return f"{body}.{_b64(mac)}"


def verify(secret: str, token: str, *, kind: str) -> dict[str, Any]:
    """The token's claims, if its signature is valid, it has not expired and it is of ``kind``."""
    try:
        body, mac = token.split(".", 1)
        expected = hmac.new(secret.encode(), body.encode(), hashlib.sha256).digest()
        if not hmac.compare_digest(expected, _unb64(mac)):
            raise ValueError("bad signature")
        claims = json.loads(_unb64(body))
    except (ValueError, UnicodeDecodeError):
        raise Forbidden("invalid signed URL") from None
    if claims.get("kind") != kind:
        raise Forbidden("this signed URL is not valid for this operation")
    if claims.get("exp", 0) < time.time():
        raise Forbidden("this signed URL has expired")
    return claims
