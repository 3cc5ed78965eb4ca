"""OpenTelemetry tracing across the pipeline: one trace from the HTTP request that creates a job, through the
outbox and every Kafka hop, to the worker's tasks and the export.

* HTTP: each service's FastAPI app gets server spans (W3C ``traceparent`` read from the request);
  asyncpg, httpx and aiohttp calls get client spans.
* Kafka: FastStream's telemetry middleware on every broker reads ``traceparent`` from a consumed message's
  headers and writes it into published ones.
* Background loops: a database query that is the root of its trace (polling, sweeps) is not sampled; every
  other span is.
* The outbox: an event is published later, by a relay, outside the request or handler that wrote it, so
  ``enqueue`` keeps the writer's trace context in the row (``trace_context``) and the relay publishes each row
  inside it: the consumer's span is a child of the span that wrote the event.

With ``OTEL_EXPORTER_OTLP_ENDPOINT`` set a service exports its spans over OTLP/HTTP (service name
``conveyor-<service>``, or ``OTEL_SERVICE_NAME``); without it nothing is set up and the API's no-op tracer
costs next to nothing. A host process may install its own tracer provider first (the tests do: an in-memory
exporter); it is then used as it is.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from typing import Any

from opentelemetry import context, propagate, trace

log = logging.getLogger(__name__)
_instrumented = False


def tracer(name: str) -> trace.Tracer:
    return trace.get_tracer(name)


def configure_tracing(service: str, endpoint: str | None, name: str | None = None) -> bool:
    """Export this process's spans to ``endpoint`` (``OTEL_EXPORTER_OTLP_ENDPOINT``) as ``name``, and instrument
    the clients; whether tracing is on (an endpoint, or a provider the host process installed)."""
    installed = not isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider)
    if not installed and endpoint:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor

        name = name or f"conveyor-{service}"
        provider = TracerProvider(resource=Resource.create({"service.name": name}), sampler=_without_idle_queries())
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=f"{endpoint.rstrip('/')}/v1/traces")))
        trace.set_tracer_provider(provider)
        installed = True
        log.info("tracing: spans of %s exported to %s", name, endpoint)
    if installed:
        _instrument_clients()
    return installed


def _without_idle_queries() -> Any:
    """Every span, but a database query that starts a trace of its own: that is a background loop polling
    (claims, sweeps, the outbox relay), about 2,000 spans a minute with nothing running. A query inside a request,
    a consumed event or a task keeps its parent's trace and is kept."""
    from opentelemetry.sdk.trace.sampling import ALWAYS_ON, Decision, ParentBased, Sampler, SamplingResult

    class DropIdleQueries(Sampler):
        def should_sample(self, parent_context: Any, trace_id: int, name: str, kind: Any = None,
                          attributes: Any = None, links: Any = None, trace_state: Any = None) -> SamplingResult:
            if attributes and attributes.get("db.system"):
                return SamplingResult(Decision.DROP)
            return ALWAYS_ON.should_sample(parent_context, trace_id, name, kind, attributes, links, trace_state)

        def get_description(self) -> str:
            return "DropIdleQueries"

    return ParentBased(root=DropIdleQueries())


def _instrument_clients() -> None:
    global _instrumented
    if _instrumented:
        return
    from opentelemetry.instrumentation.aiohttp_client import AioHttpClientInstrumentor
    from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

    AsyncPGInstrumentor().instrument()
    HTTPXClientInstrumentor().instrument()
    AioHttpClientInstrumentor().instrument()
    _instrumented = True


def instrument_app(app: Any) -> None:
    """Server spans for every request of a FastAPI app (the trace context of the caller continued)."""
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    FastAPIInstrumentor.instrument_app(app, excluded_urls="healthz,metrics")


def current_context() -> dict[str, str] | None:
    """The current trace context as W3C headers (``traceparent``, ``tracestate``), or None outside a trace."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier or None


@contextlib.contextmanager
def continued(carrier: dict[str, str] | None) -> Iterator[None]:
    """Run the block inside the trace context ``carrier`` holds (as ``current_context`` wrote it)."""
    if not carrier:
        yield
        return
    token = context.attach(propagate.extract(carrier))
    try:
        yield
    finally:
        context.detach(token)
