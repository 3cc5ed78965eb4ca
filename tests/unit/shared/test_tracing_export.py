"""With OTEL_EXPORTER_OTLP_ENDPOINT set, a service's spans leave over OTLP/HTTP under its name; without it,
nothing is set up. Run in fresh interpreters: a process installs its tracer provider once."""

import http.server
import subprocess
import sys
import threading

from shared.config import REPO_ROOT

SCRIPT = """
import sys
from opentelemetry import trace
from shared.tracing import configure_tracing, tracer
on = configure_tracing("probe", sys.argv[1] or None)
with tracer("probe").start_as_current_span("a span of the probe"):
    with tracer("probe").start_as_current_span("a query of the probe", kind=trace.SpanKind.CLIENT,
                                              attributes={"db.system": "postgresql"}):
        pass
with tracer("probe").start_as_current_span("an idle poll of the probe", kind=trace.SpanKind.CLIENT,
                                          attributes={"db.system": "postgresql"}):
    pass
provider = trace.get_tracer_provider()
getattr(provider, "force_flush", lambda: None)()
print("on" if on else "off", type(provider).__name__)
"""


def _receiver() -> tuple[http.server.ThreadingHTTPServer, list[tuple[str, bytes]]]:
    received: list[tuple[str, bytes]] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append((self.path, self.rfile.read(int(self.headers.get("Content-Length") or 0))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            return None

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, received


def _probe(endpoint: str) -> str:
    done = subprocess.run([sys.executable, "-c", SCRIPT, endpoint], cwd=REPO_ROOT, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip()


def test_spans_go_to_the_otlp_endpoint_named_after_the_service() -> None:
    server, received = _receiver()
    try:
        assert _probe(f"http://127.0.0.1:{server.server_port}") == "on TracerProvider"
    finally:
        server.shutdown()
    (path, body) = received[0]
    assert path == "/v1/traces" and b"conveyor-probe" in body and b"a span of the probe" in body
    # a query inside a trace is kept; one that starts its own (a background loop polling) is not sampled
    assert b"a query of the probe" in body and b"an idle poll of the probe" not in body


def test_without_an_endpoint_nothing_is_set_up() -> None:
    assert _probe("") == "off ProxyTracerProvider"
