"""The client sends every create (a POST or PUT of JSON) with an Idempotency-Key and sends it again under the same
key when its answer is lost, never more than CREATE_RETRIES times; an answer of the service's own is never retried.
The service's side (a repeat answered once) is tests/integration/scheduler/test_idempotency.py."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from conveyor_client import client as client_module
from conveyor_client.client import CREATE_RETRIES, ApiError, ConveyorClient

Answer = Callable[[int], httpx.Response | Exception]


def _client(answer: Answer, seen: list[httpx.Request]) -> ConveyorClient:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        result = answer(len(seen))
        if isinstance(result, Exception):
            raise result
        return result

    made = ConveyorClient("http://conveyor.test", "cvr_key")
    made.http = httpx.Client(base_url="http://conveyor.test", transport=httpx.MockTransport(handler))
    made._workspace = "ws"
    return made


@pytest.fixture(autouse=True)
def no_pause(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(client_module, "RETRY_PAUSE_S", 0.0)


@pytest.mark.parametrize("lost", [
    httpx.ConnectError("refused"), httpx.ReadTimeout("no answer"), httpx.Response(502), httpx.Response(504),
    httpx.Response(503, headers={"Retry-After": "2"}),
    httpx.Response(409, json={"message": "a request with this Idempotency-Key is still being answered"})],
    ids=["connect", "read-timeout", "502", "504", "503-retry-after", "409-in-flight"])
def test_a_create_whose_answer_is_lost_is_sent_again_under_its_key(lost: httpx.Response | Exception) -> None:
    seen: list[httpx.Request] = []
    client = _client(lambda n: lost if n == 1 else httpx.Response(200, json={"status": "ok", "jobId": "j"}), seen)
    client.create_job("j", {"type": "simple-image-processing-v1"})
    assert len(seen) == 2
    keys = {r.headers["idempotency-key"] for r in seen}
    assert len(keys) == 1 and len(keys.pop()) == 32


def test_a_create_is_sent_at_most_once_more_than_its_retries() -> None:
    seen: list[httpx.Request] = []
    client = _client(lambda n: httpx.ConnectError("refused"), seen)
    with pytest.raises(httpx.ConnectError):
        client.estimate_job({"type": "simple-image-processing-v1"})
    assert len(seen) == CREATE_RETRIES + 1
    gone: list[httpx.Request] = []
    with pytest.raises(ApiError) as failed:
        _client(lambda n: httpx.Response(502, text="bad gateway"), gone).estimate_job({})
    assert failed.value.status == 502 and len(gone) == CREATE_RETRIES + 1


@pytest.mark.parametrize("answer", [
    httpx.Response(503, json={"message": "the estimate's sample job estimate-1 did not end within 120s"}),
    httpx.Response(409, json={"message": "job 'j' already exists"}), httpx.Response(400, json={"message": "bad"}),
    httpx.Response(500, json={"message": "unexpected error"})], ids=["503-own", "409-exists", "400", "500"])
def test_an_answer_of_the_service_is_not_retried(answer: httpx.Response) -> None:
    seen: list[httpx.Request] = []
    with pytest.raises(ApiError):
        _client(lambda n: answer, seen).create_job("j", {})
    assert len(seen) == 1


def test_reads_and_uploads_carry_no_key_and_are_not_retried(tmp_path) -> None:
    seen: list[httpx.Request] = []
    client = _client(lambda n: httpx.ConnectError("refused"), seen)
    with pytest.raises(httpx.ConnectError):
        client.job("j")
    image = tmp_path / "a.jpg"
    image.write_bytes(b"\xff\xd8\xff")
    with pytest.raises(httpx.ConnectError):
        client.upload_image("b", image)
    assert len(seen) == 2 and not any("idempotency-key" in r.headers for r in seen)
