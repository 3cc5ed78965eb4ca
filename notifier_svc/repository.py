"""All SQL of notifier_svc: deliveries, their attempts, and the signing material of workspaces (its own
``webhook_signing`` table)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from shared.tracing import current_context
from shared.webhooks import generate_publishable_key, generate_webhook_secret


@dataclass(frozen=True)
class Delivery:
    id: str
    workspace_id: str
    event_id: str
    url: str
    category: str
    subject_kind: str
    subject_id: str
    payload: dict[str, Any]
    status: str
    attempts: int
    max_attempts: int
    next_attempt_at: datetime
    last_status_code: int | None
    last_error: str | None
    delivered_at: datetime | None
    created_at: datetime
    updated_at: datetime
    trace_context: dict[str, str] | None = None  # W3C headers of the trace the delivery was stored in


_COLS = ("id, workspace_id, event_id, url, category, subject_kind, subject_id, payload, status, attempts,"
         " max_attempts, next_attempt_at, last_status_code, last_error, delivered_at, created_at, updated_at,"
         " trace_context")


def _delivery(row: asyncpg.Record) -> Delivery:
    return Delivery(**{**dict(row), "id": str(row["id"]), "workspace_id": str(row["workspace_id"])})


class NotifierRepository:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn

    async def add_delivery(self, ws: str, event_id: str, url: str, category: str, subject_kind: str, subject_id: str,
                      payload: dict[str, Any], max_attempts: int) -> bool:
        result = await self.conn.execute(
            "INSERT INTO deliveries (id, workspace_id, event_id, url, category, subject_kind, subject_id, payload,"
            " max_attempts, trace_context) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING",
            uuid.uuid4(), uuid.UUID(ws), event_id, url, category, subject_kind, subject_id, payload, max_attempts,
            current_context())
        return result.endswith(" 1")

    async def claim_due(self, limit: int, lease_s: float) -> list[Delivery]:
        """Due deliveries (or ones whose deliverer died: lease expired), leased to this process for one
        attempt each. ``attempts`` counts the attempt being made: it numbers the attempt truthfully (an
        attempt whose lease ran out counted too) and fences the lease (see ``settle``)."""
        rows = await self.conn.fetch(
            f"UPDATE deliveries SET status = 'delivering', claimed_until = now() + make_interval(secs => $2),"
            f" attempts = attempts + 1, updated_at = now() WHERE id IN (SELECT id FROM deliveries WHERE"
            f"  ((status = 'pending' AND next_attempt_at <= now())"
            f"   OR (status = 'delivering' AND claimed_until < now()))"
            # an earlier delivery of the same subject to the same URL still open: this one waits its turn
            f"  AND NOT EXISTS (SELECT 1 FROM deliveries e WHERE e.workspace_id = deliveries.workspace_id"
            f"   AND e.subject_kind = deliveries.subject_kind AND e.subject_id = deliveries.subject_id"
            f"   AND e.url = deliveries.url AND e.status IN ('pending', 'delivering') AND e.seq < deliveries.seq)"
            f"  ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED) RETURNING {_COLS}", limit, lease_s)
        return [_delivery(r) for r in rows]

    async def _ensure_signing(self, ws: str) -> None:
        """A workspace's signing row, made at its first use (a new workspace has none yet)."""
        await self.conn.execute(
            "INSERT INTO webhook_signing (workspace_id, secret, publishable_key) SELECT id, $2, $3 FROM workspaces"
            " WHERE id = $1 ON CONFLICT (workspace_id) DO NOTHING", uuid.UUID(ws), generate_webhook_secret(),
            generate_publishable_key())

    async def signing_material(self, ws: str) -> tuple[list[str], str] | None:
        """The secrets that sign the workspace's webhooks (the previous one too, during a rotation's grace)
        and its publishable key."""
        await self._ensure_signing(ws)
        row = await self.conn.fetchrow(
            "SELECT secret, publishable_key, CASE WHEN previous_until > now() THEN previous_secret END AS previous"
            " FROM webhook_signing WHERE workspace_id = $1", uuid.UUID(ws))
        if row is None:
            return None
        return [row["secret"], *([row["previous"]] if row["previous"] else [])], row["publishable_key"]

    async def signing_secret(self, ws: str) -> tuple[str, datetime | None]:
        await self._ensure_signing(ws)
        row = await self.conn.fetchrow(
            "SELECT secret, CASE WHEN previous_until > now() THEN previous_until END AS until"
            " FROM webhook_signing WHERE workspace_id = $1", uuid.UUID(ws))
        return row["secret"], row["until"]

    async def rotate_secret(self, ws: str, new_secret: str, grace_s: float) -> datetime:
        """Sign with ``new_secret`` from now on, and with the current one beside it for ``grace_s``."""
        await self._ensure_signing(ws)
        return await self.conn.fetchval(
            "UPDATE webhook_signing SET previous_secret = secret, secret = $2,"
            " previous_until = now() + make_interval(secs => $3) WHERE workspace_id = $1"
            " RETURNING previous_until", uuid.UUID(ws), new_secret, grace_s)

    async def record_attempt(self, d: Delivery, attempt: int, status_code: int | None, error: str | None,
                             duration_ms: int) -> None:
        await self.conn.execute(
            "INSERT INTO delivery_attempts (delivery_id, attempt, status_code, error, duration_ms)"
            " VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
            uuid.UUID(d.id), attempt, status_code, error, duration_ms)

    async def settle(self, d: Delivery, *, attempt: int, status: str, status_code: int | None, error: str | None,
                     retry_in_s: float | None) -> bool:
        """Record the outcome of ``attempt``; False (nothing changed) when its lease was lost meanwhile: another
        process has claimed the delivery for a later attempt, and a stale outcome must not overwrite it."""
        result = await self.conn.execute(
            "UPDATE deliveries SET status = $2, last_status_code = $4, last_error = $5,"
            " next_attempt_at = CASE WHEN $6::float8 IS NULL THEN next_attempt_at"
            "   ELSE now() + make_interval(secs => $6::float8) END,"
            " delivered_at = CASE WHEN $2 = 'delivered' THEN now() ELSE delivered_at END,"
            " claimed_until = NULL, updated_at = now() WHERE id = $1 AND status = 'delivering' AND attempts = $3",
            uuid.UUID(d.id), status, attempt, status_code, error, retry_in_s)
        return result.endswith(" 1")

    async def wake_waiting(self, url: str) -> int:
        """Make the deliveries to ``url`` that wait for a retry due now (it has just answered)."""
        result = await self.conn.execute(
            "UPDATE deliveries SET next_attempt_at = now(), updated_at = now()"
            " WHERE url = $1 AND status = 'pending' AND attempts > 0 AND next_attempt_at > now()", url)
        return int(result.split()[-1])

    async def redeliver_many(self, ws: str, subject_kind: str | None, subject_id: str | None, status: str,
                             extra_attempts: int) -> int:
        """Send again every delivery of the workspace in ``status`` (of one subject, if given), each with a
        fresh allowance of attempts."""
        result = await self.conn.execute(
            "UPDATE deliveries SET status = 'pending', next_attempt_at = now(), max_attempts = attempts + $5,"
            " claimed_until = NULL, updated_at = now() WHERE workspace_id = $1 AND status = $4"
            " AND ($2::text IS NULL OR subject_kind = $2) AND ($3::text IS NULL OR subject_id = $3)",
            uuid.UUID(ws), subject_kind, subject_id, status, extra_attempts)
        return int(result.split()[-1])

    async def unclaim(self, d: Delivery, retry_in_s: float) -> None:
        """Give back a claimed delivery that was not attempted (its receiver was saturated)."""
        await self.conn.execute(
            "UPDATE deliveries SET status = 'pending', attempts = attempts - 1, claimed_until = NULL,"
            " next_attempt_at = now() + make_interval(secs => $3), updated_at = now()"
            " WHERE id = $1 AND status = 'delivering' AND attempts = $2", uuid.UUID(d.id), d.attempts, retry_in_s)

    async def list_deliveries(self, ws: str, subject_kind: str | None, subject_id: str | None, status: str | None,
                              limit: int, after: tuple[datetime, str] | None) -> list[Delivery]:
        rows = await self.conn.fetch(
            f"SELECT {_COLS} FROM deliveries WHERE workspace_id = $1 AND ($2::text IS NULL OR subject_kind = $2)"
            " AND ($3::text IS NULL OR subject_id = $3) AND ($4::text IS NULL OR status = $4)"
            " AND ($5::timestamptz IS NULL OR (created_at, id::text) < ($5, $6))"
            " ORDER BY created_at DESC, id::text DESC LIMIT $7",
            uuid.UUID(ws), subject_kind, subject_id, status, after[0] if after else None,
            after[1] if after else "", limit)
        return [_delivery(r) for r in rows]

    async def get(self, ws: str, delivery_id: str) -> Delivery | None:
        try:
            key = uuid.UUID(delivery_id)
        except ValueError:
            return None
        row = await self.conn.fetchrow(f"SELECT {_COLS} FROM deliveries WHERE workspace_id = $1 AND id = $2",
                                       uuid.UUID(ws), key)
        return _delivery(row) if row else None

    async def attempts(self, delivery_id: str) -> list[asyncpg.Record]:
        return await self.conn.fetch(
            "SELECT attempt, status_code, error, duration_ms, attempted_at FROM delivery_attempts"
            " WHERE delivery_id = $1 ORDER BY attempt", uuid.UUID(delivery_id))

    async def release_leases(self, delivery_ids: list[str]) -> None:
        await self.conn.execute(
            "UPDATE deliveries SET status = 'pending', claimed_until = NULL, updated_at = now()"
            " WHERE id = ANY($1::uuid[]) AND status = 'delivering'", [uuid.UUID(i) for i in delivery_ids])

    async def redeliver(self, d: Delivery, extra_attempts: int) -> None:
        await self.conn.execute(
            "UPDATE deliveries SET status = 'pending', next_attempt_at = now(), max_attempts = attempts + $2,"
            " claimed_until = NULL, updated_at = now() WHERE id = $1", uuid.UUID(d.id), extra_attempts)
