"""One job is one trace across every process of a deployment, as an OTLP/HTTP receiver sees it: the gateway's
request span at the root, the scheduler, the worker's tasks, the export and the notifier's webhook attempt below
it, each span's parent in the same trace, and the receiver's ``traceparent`` of that trace."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from tests.fixtures.deployment import Deployment
from tests.fixtures.media import jpeg, photo
from tests.fixtures.pipeline import job_body
from tests.fixtures.workflows import detect_workflow

OTLP_PORT, HOOK_PORT = 9390, 9391
pytestmark = pytest.mark.parametrize("deployment", [{
    "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{OTLP_PORT}",
    "CONVEYOR_WEBHOOK_ALLOWED_HOSTS": f'["127.0.0.1:{HOOK_PORT}"]'}], indirect=True)


@dataclass(frozen=True)
class Span:
    service: str
    name: str
    kind: int
    trace_id: str
    span_id: str
    parent_id: str


class Receiver:
    """On ``OTLP_PORT``, an OTLP/HTTP trace receiver (every span exported to it, decoded from protobuf); on
    ``HOOK_PORT``, a webhook receiver (the ``traceparent`` each webhook came with)."""

    def __init__(self) -> None:
        self.spans: list[Span] = []
        self.traceparents: list[str] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            webhooks = False  # the webhook receiver's handler, or the OTLP one

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver._lock:
                    if self.webhooks:
                        receiver.traceparents.append(self.headers.get("traceparent", ""))
                    else:
                        receiver.spans += _spans(body)
                self.send_response(200)
                self.end_headers()

            def log_message(self, *_: object) -> None:
                pass

        class Webhooks(Handler):
            webhooks = True

        self.servers = [ThreadingHTTPServer(("127.0.0.1", OTLP_PORT), Handler),
                        ThreadingHTTPServer(("127.0.0.1", HOOK_PORT), Webhooks)]
        for server in self.servers:
            threading.Thread(target=server.serve_forever, daemon=True).start()

    def of_trace(self, trace_id: str) -> list[Span]:
        with self._lock:
            return [s for s in self.spans if s.trace_id == trace_id]

    def close(self) -> None:
        for server in self.servers:
            server.shutdown()
            server.server_close()


def _spans(body: bytes) -> list[Span]:
    request = ExportTraceServiceRequest()
    request.ParseFromString(body)
    found = []
    for resource in request.resource_spans:
        service = next((a.value.string_value for a in resource.resource.attributes if a.key == "service.name"), "")
        for scope in resource.scope_spans:
            found += [Span(service, s.name, s.kind, s.trace_id.hex(), s.span_id.hex(), s.parent_span_id.hex())
                      for s in scope.spans]
    return found


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    started = Receiver()
    yield started
    started.close()


def test_a_job_is_one_span_tree_across_every_service(receiver: Receiver, deployment: Deployment) -> None:
    base, key, ws = deployment.base_url, deployment.api_key, deployment.workspace
    api = httpx.Client(base_url=base, params={"api_key": key}, timeout=30)
    for name, data in {"bus.jpg": photo("bus.jpg"), "zidane.jpg": photo("zidane.jpg"), "n.jpg": jpeg(3)}.items():
        assert api.post(f"/data-staging/v1/external/{ws}/batches/otlp-traced/upload/image", params={"fileName": name},
                        files={name: (name, data)}).status_code == 200
    assert api.put(f"/{ws}/workflows/otlp-traced", json={"specification": detect_workflow()}).status_code == 200
    body = job_body(ws, "otlp-traced", "otlp-traced", notificationsURL=f"http://127.0.0.1:{HOOK_PORT}/job")
    assert api.post(f"/batch-processing/v1/external/{ws}/jobs/traced-job", json=body).status_code == 200
    deadline = time.monotonic() + 120
    while not receiver.traceparents and time.monotonic() < deadline:
        time.sleep(0.2)
    assert receiver.traceparents, "no webhook came"

    def job_trace() -> list[Span]:
        # the scheduler's span of the request that made the job (the gateway names its route /{path:path})
        made = [s for s in receiver.spans if s.service == "conveyor-scheduler"
                and s.name == "POST /batch-processing/v1/external/{workspace}/jobs/{job_id}"]
        return receiver.of_trace(made[0].trace_id) if made else []

    every = {"conveyor-gateway", "conveyor-scheduler", "conveyor-worker", "conveyor-export", "conveyor-notifier"}

    def orphans(spans: list[Span]) -> list[tuple[str, str]]:
        ids = {s.span_id for s in spans}
        return [(s.service, s.name) for s in spans if s.parent_id and s.parent_id not in ids]

    # each process exports its ended spans in batches every few seconds, a parent after its children
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and (not every <= {s.service for s in job_trace()} or orphans(job_trace())):
        time.sleep(0.5)
    spans = job_trace()
    services = {s.service for s in spans}
    assert every <= services, (services, sorted({(s.service, s.name) for s in receiver.spans
                                                  if s.service == "conveyor-worker"})[:30])
    # a tree: one root (the gateway's request), every other span's parent in the same trace
    roots = [s for s in spans if not s.parent_id]
    assert [(r.service, r.name) for r in roots] == [("conveyor-gateway", "POST /{path:path}")], roots
    assert not orphans(spans), orphans(spans)
    names = {(s.service, s.name) for s in spans}
    tasks = [s for s in spans if s.service == "conveyor-worker" and s.name.startswith("task ")]
    assert len(tasks) == 1  # 3 files, 4 a task
    assert ("conveyor-export", "export traced-job") in names and ("conveyor-notifier", "webhook job-status") in names
    # and the receiver was called inside the job's trace
    assert [t.split("-")[1] for t in receiver.traceparents] == [roots[0].trace_id]
