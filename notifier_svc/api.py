"""The delivery log API: ``/notifications/v1/{workspace}/deliveries`` (list, details, redeliver)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from notifier_svc.config import NotifierSettings
from notifier_svc.repository import Delivery, NotifierRepository
from notifier_svc.schemas import DeliveryAttempt, DeliveryInfo, ListDeliveriesResponse
from shared.auth import Workspace, workspace_from_path
from shared.db import Record, transaction
from shared.errors import InvalidInput, NotFound
from shared.pagination import decode_token, encode_token, page_size, text, timestamp
from shared.runtime import Resources
from shared.webhooks import generate_webhook_secret

deliveries = APIRouter(prefix="/notifications/v1/{workspace}", tags=["webhooks"])
STATUSES = ("pending", "delivering", "delivered", "failed", "dead")


def _info(d: Delivery, attempts: list[Record] | None = None) -> DeliveryInfo:
    return DeliveryInfo(
        delivery_id=d.id, event_id=d.event_id, url=d.url, category=d.category, subject_kind=d.subject_kind,
        subject_id=d.subject_id, status=d.status, attempts=d.attempts, max_attempts=d.max_attempts,
        last_status_code=d.last_status_code, last_error=d.last_error, next_attempt_at=d.next_attempt_at,
        delivered_at=d.delivered_at, created_at=d.created_at, payload=d.payload,
        attempt_log=None if attempts is None else [DeliveryAttempt(**dict(a)) for a in attempts])


@deliveries.get("/deliveries", response_model=ListDeliveriesResponse)
async def list_deliveries(request: Request, ws: Workspace = Depends(workspace_from_path), jobId: str | None = None,
                          batchId: str | None = None, status: str | None = None, pageSize: int | None = None,
                          nextPageToken: str | None = None) -> ListDeliveriesResponse:
    if jobId and batchId:
        raise InvalidInput("filter by jobId or batchId, not both")
    if status is not None and status not in STATUSES:
        raise InvalidInput(f"status must be one of {', '.join(STATUSES)}")
    kind, subject = ("job", jobId) if jobId else ("batch", batchId) if batchId else (None, None)
    limit = page_size(pageSize, 100)
    cursor = decode_token(nextPageToken, "deliveries", c=timestamp, i=text)
    after = (cursor["c"], cursor["i"]) if cursor else None
    async with request.app.state.pool.acquire() as conn:
        found = await NotifierRepository(conn).list_deliveries(ws.id, kind, subject, status, limit + 1, after)
    token = encode_token("deliveries", {"c": found[limit - 1].created_at.isoformat(),
                                          "i": str(found[limit - 1].id)}) \
        if len(found) > limit else None
    return ListDeliveriesResponse(deliveries=[_info(d) for d in found[:limit]], next_page_token=token)


async def _delivery(conn, ws: Workspace, delivery_id: str) -> Delivery:
    d = await NotifierRepository(conn).get(ws.id, delivery_id)
    if d is None:
        raise NotFound(f"delivery {delivery_id!r} does not exist in this workspace")
    return d


@deliveries.get("/deliveries/{delivery_id}")
async def delivery_details(request: Request, delivery_id: str,
                           ws: Workspace = Depends(workspace_from_path)) -> dict[str, object]:
    async with request.app.state.pool.acquire() as conn:
        d = await _delivery(conn, ws, delivery_id)
        attempts = await NotifierRepository(conn).attempts(d.id)
    return {"delivery": _info(d, attempts).model_dump(mode="json")}


@deliveries.get("/signing-secret")
async def signing_secret(request: Request, ws: Workspace = Depends(workspace_from_path)) -> dict[str, object]:
    """The ``whsec_`` secret that signs this workspace's webhooks (verify them with it)."""
    async with request.app.state.pool.acquire() as conn:
        secret, previous_until = await NotifierRepository(conn).signing_secret(ws.id)
    return {"secret": secret, "previousSecretValidUntil": previous_until}


def _settings(request: Request) -> NotifierSettings:
    resources: Resources[NotifierSettings] = request.app.state.resources
    return resources.deps


@deliveries.post("/signing-secret/rotate")
async def rotate_signing_secret(request: Request, ws: Workspace = Depends(workspace_from_path)) -> dict[str, object]:
    """A new secret from now on; the previous one keeps signing beside it for the grace period, so receivers
    that verify with either accept every webhook while they switch."""
    grace = _settings(request).secret_rotation_grace_s
    secret = generate_webhook_secret()
    async with transaction(request.app.state.pool) as conn:
        until = await NotifierRepository(conn).rotate_secret(ws.id, secret, grace)
    return {"secret": secret, "previousSecretValidUntil": until}


@deliveries.post("/deliveries/redeliver")
async def redeliver_many(request: Request, ws: Workspace = Depends(workspace_from_path), status: str = "dead",
                         jobId: str | None = None, batchId: str | None = None) -> dict[str, object]:
    """Send again, in bulk, every delivery in ``status`` (dead letters by default; ``failed`` too) of the
    workspace, or of one job or batch: after a receiver's outage outlasted the retry schedule."""
    if jobId and batchId:
        raise InvalidInput("filter by jobId or batchId, not both")
    if status not in ("dead", "failed"):
        raise InvalidInput("status must be dead or failed: pending and delivered deliveries are not redelivered")
    kind, subject = ("job", jobId) if jobId else ("batch", batchId) if batchId else (None, None)
    async with transaction(request.app.state.pool) as conn:
        count = await NotifierRepository(conn).redeliver_many(ws.id, kind, subject, status,
                                                              _settings(request).max_attempts)
    return {"status": "ok", "redelivered": count}


@deliveries.post("/deliveries/{delivery_id}/redeliver")
async def redeliver(request: Request, delivery_id: str, ws: Workspace = Depends(workspace_from_path)) -> dict:
    """Send a delivery again (whatever its status), with a fresh allowance of attempts."""
    async with transaction(request.app.state.pool) as conn:
        d = await _delivery(conn, ws, delivery_id)
        await NotifierRepository(conn).redeliver(d, _settings(request).max_attempts)
    return {"status": "ok", "deliveryId": delivery_id}
