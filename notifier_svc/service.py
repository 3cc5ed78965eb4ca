"""Webhook delivery: signed POSTs, retried on a schedule of a day and more, then dead-lettered.

Deliveries live in PostgreSQL, so scheduled retries survive restarts; a process leases the deliveries it
works on, and a crashed process's leases expire. Each receiver (host:port) gets at most
``per_endpoint_concurrency`` requests at once: a slow receiver's deliveries go back to the queue instead
of holding slots that other receivers need.

Deliveries of one subject (job or batch) to one URL leave in the order they were stored, one at a time; when
a receiver answers again, its other deliveries waiting for a retry are due at once (it is back: no need to
wait out hours of their schedules).

Outcomes: 2xx delivered; 408/425/429/5xx, timeouts and connection errors retried; other 4xx (and 3xx:
redirects are not followed) failed for good; an unsafe target URL failed for good.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import defaultdict

import httpx

from notifier_svc.config import NotifierSettings
from notifier_svc.repository import Delivery, NotifierRepository
from notifier_svc.schedule import Outcome, backoff_s, outcome_of, status_after
from shared import webhooks
from shared.db import Connection, Pool
from shared.events import NotificationRequestedV1
from shared.metrics import WEBHOOK_ATTEMPTS, WEBHOOK_LATENCY
from shared.netsafe import UnsafeURL, check_url, host_port
from shared.tracing import continued, tracer

log = logging.getLogger(__name__)

async def accept_request(conn: Connection, event: NotificationRequestedV1, max_attempts: int) -> bool:
    event_id = str(event.payload.get("event_id") or event.event_id)
    return await NotifierRepository(conn).add_delivery(event.workspace_id, event_id, event.url, event.category,
                                                  event.subject_kind, event.subject_id, event.payload, max_attempts)


class Dispatcher:
    """Claims due deliveries and attempts them: as soon as this process has stored a new one (``due`` is
    set), else every ``poll_interval_s`` (retries falling due, deliveries another notifier stored)."""

    def __init__(self, settings: NotifierSettings, pool: Pool, http: httpx.AsyncClient,
                 due: asyncio.Event | None = None) -> None:
        self.settings = settings
        self.pool = pool
        self.http = http
        self.allowed = frozenset(settings.webhook_allowed_hosts)
        self._per_host: defaultdict[str, asyncio.Semaphore] = defaultdict(
            lambda: asyncio.Semaphore(settings.per_endpoint_concurrency))
        self._in_flight: set[asyncio.Task[None]] = set()
        self._claimed: dict[asyncio.Task[None], Delivery] = {}
        self._due = due or asyncio.Event()

    async def run(self) -> None:
        try:
            while True:
                self._due.clear()  # before the claim: one stored after it wakes the wait below
                free = self.settings.max_in_flight - len(self._in_flight)
                claimed: list[Delivery] = []
                if free > 0:
                    async with self.pool.acquire() as conn:
                        claimed = await NotifierRepository(conn).claim_due(free, self.settings.lease_s)
                for delivery in claimed:
                    task = asyncio.create_task(self._deliver(delivery))
                    self._in_flight.add(task)
                    self._claimed[task] = delivery
                    task.add_done_callback(self._forget)
                if len(claimed) < max(free, 1):
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._due.wait(), self.settings.poll_interval_s)
        finally:
            await self._drain()

    async def _drain(self) -> None:
        """On shutdown, let in-flight attempts finish (and be recorded); release the leases of the rest."""
        pending = set(self._in_flight)
        if pending:
            _, pending = await asyncio.wait(pending, timeout=self.settings.request_timeout_s + 1)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        if pending:
            async with self.pool.acquire() as conn:
                await NotifierRepository(conn).release_leases([d.id for d in self._claimed.values()])



    def _forget(self, task: asyncio.Task[None]) -> None:
        self._in_flight.discard(task)
        self._claimed.pop(task, None)

    async def _deliver(self, d: Delivery) -> None:
        gate = self._per_host[host_port(d.url)]
        if gate.locked():  # this receiver is saturated: let the delivery wait in the queue, not in a slot
            async with self.pool.acquire() as conn:
                await NotifierRepository(conn).unclaim(d, retry_in_s=0.2)
            return
        # inside the trace the delivery was stored in (the job's): the receiver's traceparent continues it
        attributes = {"conveyor.delivery_id": d.id, "conveyor.subject_id": d.subject_id}
        with continued(d.trace_context), tracer(__name__).start_as_current_span(f"webhook {d.category}",
                                                                               attributes=attributes):
            async with gate:
                await self.attempt(d)

    async def attempt(self, d: Delivery) -> str:
        """One delivery attempt (the one its claim counted); returns the delivery's new status.

        The attempt has a total deadline (``request_timeout_s``, shorter than the lease), so a receiver that
        trickles its answer cannot outlive the lease and see a second attempt start beside it; only the
        status line and headers are read, so a huge answer costs nothing."""
        attempt = d.attempts
        async with self.pool.acquire() as conn:
            material = await NotifierRepository(conn).signing_material(d.workspace_id)
        if material is None:
            return await self._settle(d, attempt, "failed", None, "workspace no longer exists", 0, None)
        secrets, publishable_key = material
        body = json.dumps({**d.payload, "delivery_attempt": attempt}, separators=(",", ":")).encode()
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {publishable_key}",
                   "User-Agent": "Conveyor-Webhooks/1", **webhooks.headers(secrets, d.event_id, body)}
        started = time.monotonic()
        deadline = self.settings.request_timeout_s
        try:
            async with asyncio.timeout(deadline):
                await check_url(d.url, self.allowed)
                async with self.http.stream("POST", d.url, content=body, headers=headers, timeout=deadline,
                                            follow_redirects=False) as resp:
                    code, retry_after = resp.status_code, resp.headers.get("retry-after")
        except UnsafeURL as exc:
            return await self._settle(d, attempt, "failed", None, f"unsafe-url-detected: {exc}", started, None)
        except TimeoutError:
            return await self._settle(d, attempt, "retry", None, f"no complete answer within {deadline:g}s", started,
                                      None)
        except httpx.HTTPError as exc:
            return await self._settle(d, attempt, "retry", None, f"{type(exc).__name__}: {exc}"[:500], started, None)
        outcome = outcome_of(code)
        if outcome == "delivered":
            return await self._settle(d, attempt, outcome, code, None, started, None)
        reason = f"receiver answered HTTP {code}" + (": redirects are not followed" if 300 <= code < 400 else "")
        return await self._settle(d, attempt, outcome, code, reason, started, retry_after)

    async def _settle(self, d: Delivery, attempt: int, outcome: Outcome, code: int | None, error: str | None,
                      started: float, retry_after: str | None) -> str:
        WEBHOOK_ATTEMPTS.labels(outcome).inc()
        if started:
            WEBHOOK_LATENCY.observe(time.monotonic() - started)
        duration_ms = int((time.monotonic() - started) * 1000) if started else 0
        status = status_after(outcome, attempt, d.max_attempts)
        retry_in = backoff_s(attempt, self.settings, retry_after) if status == "pending" else None
        if status == "dead":
            error = f"gave up after {attempt} attempts; last error: {error}"
        async with self.pool.acquire() as conn, conn.transaction():
            repo = NotifierRepository(conn)
            await repo.record_attempt(d, attempt, code, error, duration_ms)
            if not await repo.settle(d, attempt=attempt, status=status, status_code=code, error=error,
                                     retry_in_s=retry_in):
                log.warning("webhook %s attempt %d ended after its lease: its outcome is kept as a record only",
                            d.event_id, attempt)
                return "superseded"
            if status == "delivered":  # the receiver answers: what waits for a retry to it goes now
                await repo.wake_waiting(d.url)
        if status in ("dead", "failed"):
            log.warning("webhook %s to %s %s: %s", d.event_id, d.url, status, error)
        return status
