"""Every Prometheus metric Conveyor exports, in one catalogue (names, labels, buckets decided once).

Each service process serves its own ``/metrics`` (``shared.runtime``); a metric a process never touches is
exported empty. Labels stay low-cardinality: machine types, outcomes, routes - never job or file ids
(those go to the structured logs, ``shared.logs``).
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, Gauge, Histogram, generate_latest

_LATENCY = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)

HTTP_REQUESTS = Histogram("conveyor_http_request_duration_seconds", "API requests by route and status",
                          ["service", "method", "route", "status"], buckets=_LATENCY)
FILES_INGESTED = Counter("conveyor_files_ingested_total", "Staged files indexed, by outcome", ["outcome"])
SHARDS_INDEXED = Counter("conveyor_shards_indexed_total", "Ingest shards finished, by outcome", ["outcome"])
TASKS = Counter("conveyor_tasks_total", "Tasks finished by workers, by machine type and outcome",
                ["machine_type", "outcome"])
FILES_PROCESSED = Counter("conveyor_files_processed_total", "Images and videos run through a workflow",
                          ["machine_type", "outcome"])
FILE_LATENCY = Histogram("conveyor_file_processing_seconds", "Workflow run time per image or video frame",
                         ["machine_type"], buckets=_LATENCY)
TASK_DURATION = Histogram("conveyor_task_duration_seconds", "Wall time of one task on a worker",
                          ["machine_type"], buckets=_LATENCY)
QUEUE_DEPTH = Gauge("conveyor_task_queue_depth", "Tasks published and not yet picked up", ["machine_type"])
QUEUE_AGE = Gauge("conveyor_task_queue_oldest_seconds", "Age of the oldest task waiting for a worker (queue lag)",
                  ["machine_type"])
JOBS = Gauge("conveyor_jobs", "Jobs by state", ["state"])
ARCHIVES = Counter("conveyor_export_archives_total", "Export archives written")
WEBHOOK_ATTEMPTS = Counter("conveyor_webhook_attempts_total", "Webhook delivery attempts, by outcome", ["outcome"])
WEBHOOK_LATENCY = Histogram("conveyor_webhook_attempt_seconds", "Time of one webhook delivery attempt",
                            buckets=_LATENCY)


def exposition() -> tuple[bytes, str]:
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


def instrument(app: FastAPI, service: str, token: str | None = None, *, public: bool = False) -> None:
    """``/metrics`` (Prometheus text format) and a latency histogram of every API request by route template.

    The counts span every workspace, so with ``token`` set only ``Authorization: Bearer <token>`` reads them;
    a ``public`` app (the gateway) serves them with a token only."""

    @app.get("/metrics", include_in_schema=False)
    async def metrics(request: Request) -> Response:
        if token is None and public:
            return JSONResponse({"error": "NotFound", "message": "the gateway serves /metrics only with "
                                 "CONVEYOR_METRICS_TOKEN set (scrape with that bearer token)"}, status_code=404)
        given = request.headers.get("authorization", "")
        if token is not None and not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            return JSONResponse({"error": "Unauthorized", "message": "/metrics needs the bearer token of "
                                 "CONVEYOR_METRICS_TOKEN"}, status_code=401)
        body, content_type = exposition()
        return Response(body, media_type=content_type)

    @app.middleware("http")
    async def observe(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        started = time.perf_counter()
        status = 500
        try:
            response = await call_next(request)
            status = response.status_code
            return response
        finally:
            route = request.scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            if template not in ("/metrics", "/healthz"):
                HTTP_REQUESTS.labels(service, request.method, template, str(status)).observe(
                    time.perf_counter() - started)
