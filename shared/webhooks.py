"""Standard Webhooks signatures (https://www.standardwebhooks.com/).

Every webhook carries ``webhook-id`` (stable across retries), ``webhook-timestamp`` (Unix seconds) and
``webhook-signature`` (``v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">``), keyed with the
workspace's secret (``whsec_<base64>``). Receivers verify with ``verify`` and refuse stale timestamps,
which stops replays.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Mapping, Sequence

TOLERANCE_S = 300


class InvalidSignature(ValueError):
    """The webhook's signature does not match, or its timestamp is outside the tolerance."""


def generate_webhook_secret() -> str:
    """A Standard Webhooks signing secret: ``whsec_`` and 32 random bytes, base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def generate_publishable_key() -> str:
    """The bearer token webhooks carry (Roboflow's receivers check a workspace's publishable key)."""
    return "pk_" + secrets.token_hex(16)


def _key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix("whsec_"))


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(_key(secret), f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def headers(secret: str | Sequence[str], msg_id: str, body: bytes, timestamp: int | None = None) -> dict[str, str]:
    """The signature headers; with several secrets (a rotation's grace period) one signature each."""
    ts = int(time.time()) if timestamp is None else timestamp
    keys = [secret] if isinstance(secret, str) else list(secret)
    return {"webhook-id": msg_id, "webhook-timestamp": str(ts),
            "webhook-signature": " ".join(sign(k, msg_id, ts, body) for k in keys)}


def verify(secret: str, received: Mapping[str, str], body: bytes, *, now: float | None = None,
           tolerance_s: int = TOLERANCE_S) -> None:
    """Raise ``InvalidSignature`` unless ``body`` and ``received`` headers were signed with ``secret``."""
    lowered = {k.lower(): v for k, v in received.items()}
    try:
        msg_id, timestamp = lowered["webhook-id"], int(lowered["webhook-timestamp"])
        signatures = lowered["webhook-signature"].split()
    except (KeyError, ValueError):
        raise InvalidSignature("missing or malformed webhook headers") from None
    if abs((time.time() if now is None else now) - timestamp) > tolerance_s:
        raise InvalidSignature("timestamp outside the tolerance (a replay?)")
    expected = sign(secret, msg_id, timestamp, body)
    if not any(hmac.compare_digest(expected, candidate) for candidate in signatures):
        raise InvalidSignature("signature mismatch")
