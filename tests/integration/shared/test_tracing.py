"""One trace from the HTTP request that creates a job to the end of its export, across every Kafka hop and the
outbox, with the worker's task spans inside it."""

from opentelemetry.sdk.trace import ReadableSpan

from tests.fixtures.media import jpeg, photo
from tests.fixtures.pipeline import Pipeline, job_body
from tests.fixtures.tracing import Recorder, spans  # noqa: F401  (the fixture)
from tests.fixtures.workflows import detect_workflow


def _ancestors(span: ReadableSpan, by_id: dict[int, ReadableSpan]) -> list[ReadableSpan]:
    found = []
    while span.parent is not None and span.parent.span_id in by_id:
        span = by_id[span.parent.span_id]
        found.append(span)
    return found


async def test_a_job_is_one_trace_from_its_request_to_its_export(spans: Recorder, pipeline: Pipeline) -> None:  # noqa: F811
    p = pipeline
    images = {"bus.jpg": photo("bus.jpg"), "zidane.jpg": photo("zidane.jpg"), "n.jpg": jpeg(1)}
    for name, data in images.items():
        resp = await p.staging.post("/batches/traced/upload/image", files={name: (name, data)}, fileName=name)
        assert resp.status_code == 200, resp.text
    assert (await p.put_workflow("detect", detect_workflow())).status_code == 200
    body = job_body(p.staging.workspace.slug, "traced", "detect", notificationsURL=f"{p.hook.url}/job")
    assert (await p.jobs_post("/jobs/traced-job", json=body)).status_code == 200
    job = await p.wait_job("traced-job")
    assert job["state"] == "succeeded", job
    await p.wait_hooks(1)
    recorded = list(spans.spans)
    (request,) = [s for s in recorded if s.name.startswith("POST ") and s.name.endswith("/jobs/{job_id}")
                  and s.kind.name == "SERVER"]
    trace_id = request.context.trace_id
    by_id = {s.context.span_id: s for s in recorded if s.context.trace_id == trace_id}
    tasks = [s for s in by_id.values() if s.name.startswith("task ")]
    assert len(tasks) == 2  # 3 images, 2 per task
    exports = [s for s in by_id.values() if s.name == "export traced-job"]
    assert len(exports) == 1, [s.name for s in recorded if "export" in s.name]
    for span in [*tasks, *exports]:  # descendants of the request, through the outbox and Kafka
        assert request in _ancestors(span, by_id), (span.name, [a.name for a in _ancestors(span, by_id)])
    # the job's webhook is delivered inside its trace: the receiver's traceparent belongs to it
    hooks = [r for r in p.hook.requests if r.path == "/job"]
    assert hooks and all(r.headers["traceparent"].split("-")[1] == f"{trace_id:032x}" for r in hooks), hooks
    delivered = [s for s in by_id.values() if s.name == "webhook job-status"]
    assert delivered and all(request in _ancestors(s, by_id) for s in delivered)
    kinds = {s.kind.name for s in by_id.values()}
    assert {"SERVER", "PRODUCER", "CONSUMER"} <= kinds
    consumed = " ".join(s.name for s in by_id.values() if s.kind.name == "CONSUMER")
    assert "tasks.cpu.v1" in consumed and "tasks.done.v1" in consumed and "jobs.stages.v1" in consumed, consumed
    assert any(str((s.attributes or {}).get("db.system", "")) == "postgresql" for s in by_id.values())  # asyncpg


async def test_the_gateway_traces_a_request_and_the_service_continues_it(spans: Recorder) -> None:  # noqa: F811
    """The gateway's server span starts (or continues) the request's trace, and the request it forwards carries
    that trace to the service behind it."""
    from deploy.gateway.app import Upstreams, create_gateway
    from shared.tracing import configure_tracing
    from tests.fixtures.apps import serve
    from tests.fixtures.receiver import receiver

    assert configure_tracing("gateway", None)  # the recorder's provider: tracing on, clients instrumented
    async with receiver() as upstream:
        ups = Upstreams(ingest=upstream.url, scheduler=upstream.url, export=upstream.url, notifier=upstream.url,
                        worker=upstream.url)
        async with serve(create_gateway(ups, traced=True), "http://gateway.test") as client:
            resp = await client.post("/notifications/hook", json={"x": 1})
    assert resp.status_code == 200
    (server,) = [s for s in spans.spans if s.kind.name == "SERVER" and s.name.startswith("POST ")]
    (forwarded,) = upstream.requests
    _, trace_id, parent_id, _ = forwarded.headers["traceparent"].split("-")
    assert trace_id == f"{server.context.trace_id:032x}"
    by_id = {s.context.span_id: s for s in spans.spans}
    assert server in _ancestors(by_id[int(parent_id, 16)], by_id)  # the forwarding client span, inside the server's
