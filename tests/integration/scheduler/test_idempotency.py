"""Retries that never double a create: a job created with an Idempotency-Key whose answer was lost, asked for
again with the same key, is the same job, answered as the first time; another request under the key is a 409."""

import json
from typing import Any

import httpx

from tests.fixtures.media import jpeg
from tests.fixtures.pipeline import Pipeline, job_body
from tests.fixtures.workflows import detect_workflow


async def _answer_lost(app: Any, path: str, query: str, body: bytes, key: str) -> None:
    """The request reaches the service, which commits and answers; the answer never reaches the client."""
    messages = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def lost(_: dict[str, Any]) -> None:
        pass  # the connection was cut

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
             "path": path, "raw_path": path.encode(), "query_string": query.encode(), "root_path": "",
             "headers": [(b"host", b"scheduler.test"), (b"content-type", b"application/json"),
                         (b"idempotency-key", key.encode()), (b"content-length", str(len(body)).encode())],
             "client": ("127.0.0.1", 1), "server": ("scheduler.test", 80), "app": app}
    await app(scope, receive, lost)


async def test_a_retried_create_whose_answer_was_lost_gives_one_job(pipeline: Pipeline) -> None:
    p = pipeline
    ws = p.staging.workspace.slug
    assert (await p.staging.post("/batches/idem/upload/image", files={"a.jpg": ("a.jpg", jpeg(1))},
                                 fileName="a.jpg")).status_code == 200
    assert (await p.put_workflow("detect", detect_workflow())).status_code == 200
    body = json.dumps(job_body(ws, "idem", "detect")).encode()
    path = p.jobs_path("/jobs/once")
    transport = p.jobs._transport
    assert isinstance(transport, httpx.ASGITransport)
    await _answer_lost(transport.app, path, f"api_key={p.staging.key}", body, "create-once-1")

    headers = {"Idempotency-Key": "create-once-1", "content-type": "application/json"}
    retried = await p.jobs.post(path, params={"api_key": p.staging.key}, content=body, headers=headers)
    assert retried.status_code == 200 and retried.headers["idempotent-replayed"] == "true", retried.text
    again = await p.jobs.post(path, params={"api_key": p.staging.key}, content=body, headers=headers)
    assert again.json() == retried.json()
    jobs = (await p.jobs_get("/jobs")).json()["jobs"]
    assert [j["jobId"] for j in jobs] == ["once"]

    other = await p.jobs.post(p.jobs_path("/jobs/twice"), params={"api_key": p.staging.key}, content=body,
                              headers=headers)
    assert other.status_code == 409 and "used for another request" in other.json()["message"]
    # without the key, a retry is the plain create it always was: the job exists
    plain = await p.jobs.post(path, params={"api_key": p.staging.key}, content=body,
                              headers={"content-type": "application/json"})
    assert plain.status_code == 409
    assert (await p.wait_job("once"))["state"] == "succeeded"


async def test_a_retried_ingest_with_the_same_key_is_one_ingest(pipeline: Pipeline) -> None:
    p = pipeline
    refs = {"imageReferences": [{"name": "r.jpg", "url": "http://127.0.0.1:9/r.jpg"}]}
    headers = {"Idempotency-Key": "ingest-once"}
    first = await p.staging.http.post(p.staging.path("/batches/refs-once/bulk-upload/image-references"),
                                      params={"api_key": p.staging.key}, json=refs, headers=headers)
    second = await p.staging.http.post(p.staging.path("/batches/refs-once/bulk-upload/image-references"),
                                       params={"api_key": p.staging.key}, json=refs, headers=headers)
    assert first.status_code == second.status_code == 200, (first.text, second.text)
    assert second.json() == first.json() and second.headers["idempotent-replayed"] == "true"
    shards = (await p.staging.get("/batches/refs-once/shards")).json()["shards"]
    assert len(shards) == 1
    blank = await p.staging.http.post(p.staging.path("/batches/refs-once/bulk-upload/image-references"),
                                      params={"api_key": p.staging.key}, json=refs,
                                      headers={"Idempotency-Key": ""})
    assert blank.status_code == 400 and "1 to 255" in blank.json()["message"]
