import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator

import asyncpg
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import StreamingResponse
from starlette.routing import Route

from notifier_svc.config import NotifierSettings
from shared import webhooks
from shared.config import ServiceSettings
from tests.fixtures.notifier import notifier_settings, running_notifier
from tests.fixtures.receiver import free_port, receiver
from tests.fixtures.resources import WorkspaceFactory

JOB_PAYLOAD = {"type": "roboflow-batch-job-notification-v1", "event_id": "evt-1", "job_id": "job-1",
               "job_state": "success"}


async def _secret_and_key(pool: asyncpg.Pool, ws_id: str) -> tuple[str, str]:
    row = await pool.fetchrow("SELECT secret, publishable_key FROM webhook_signing WHERE workspace_id = $1::uuid",
                              ws_id)
    return row["secret"], row["publishable_key"]


async def test_signed_delivery_on_first_try(settings: ServiceSettings, make_workspace: WorkspaceFactory,
                                            pool: asyncpg.Pool) -> None:
    ws, key = await make_workspace()
    async with receiver() as r, running_notifier(notifier_settings(settings, [r.host]), ws, key) as n:
        await n.request(f"{r.url}/hook", JOB_PAYLOAD)
        (delivered,) = await n.wait_status("delivered", jobId="job-1")
        assert delivered["attempts"] == 1 and delivered["lastStatusCode"] == 200
        (req,) = r.requests
        body = json.loads(req.body)
        assert body == {**JOB_PAYLOAD, "delivery_attempt": 1}
        secret, publishable = await _secret_and_key(pool, ws.id)
        assert req.headers["authorization"] == f"Bearer {publishable}" and publishable.startswith("pk_")
        assert req.headers["webhook-id"] == "evt-1"
        webhooks.verify(secret, req.headers, req.body)  # the receiver's check passes
        with pytest.raises(webhooks.InvalidSignature, match="mismatch"):
            webhooks.verify(secret, req.headers, req.body.replace(b"success", b"fail"))
        with pytest.raises(webhooks.InvalidSignature, match="tolerance"):
            webhooks.verify(secret, req.headers, req.body, now=time.time() + 3600)  # a replay an hour later
        with pytest.raises(webhooks.InvalidSignature):
            webhooks.verify("whsec_" + "A" * 44, req.headers, req.body)


async def test_receiver_down_then_back_gets_it_with_increasing_attempts(
        settings: ServiceSettings, make_workspace: WorkspaceFactory) -> None:
    ws, key = await make_workspace()
    async with receiver(started=False) as r, running_notifier(
            notifier_settings(settings, [r.host], max_attempts=10), ws, key) as n:
        await n.request(f"{r.url}/hook", JOB_PAYLOAD)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            found = await n.deliveries()
            # attempts counts an attempt from its start: wait for the second to have ended
            if found and found[0]["attempts"] >= 2 and found[0]["status"] == "pending":
                break
            await asyncio.sleep(0.1)
        assert found[0]["status"] == "pending" and "ConnectError" in found[0]["lastError"]
        await r.start()
        (delivered,) = await n.wait_status("delivered")
        assert delivered["attempts"] >= 3
        assert json.loads(r.requests[-1].body)["delivery_attempt"] == delivered["attempts"]
        details = (await n.http.get(f"/notifications/v1/{ws.slug}/deliveries/{delivered['deliveryId']}",
                                    params={"api_key": key})).json()["delivery"]
        log = details["attemptLog"]
        assert [a["attempt"] for a in log] == list(range(1, delivered["attempts"] + 1))
        assert all(a["statusCode"] is None for a in log[:-1]) and log[-1]["statusCode"] == 200


async def test_client_errors_are_not_retried_and_server_errors_end_in_a_dead_letter(
        settings: ServiceSettings, make_workspace: WorkspaceFactory) -> None:
    ws, key = await make_workspace()
    async with receiver(statuses=[400]) as bad, receiver(statuses=[503] * 4) as broken, running_notifier(
            notifier_settings(settings, [bad.host, broken.host]), ws, key) as n:
        await n.request(f"{bad.url}/hook", {**JOB_PAYLOAD, "event_id": "e-400"}, subject="job-400")
        await n.request(f"{broken.url}/hook", {**JOB_PAYLOAD, "event_id": "e-503"}, subject="job-503")
        (failed,) = await n.wait_status("failed", jobId="job-400")
        assert failed["attempts"] == 1 and failed["lastStatusCode"] == 400
        (dead,) = await n.wait_status("dead", jobId="job-503")
        assert dead["attempts"] == 4 and "gave up after 4 attempts" in dead["lastError"]
        await asyncio.sleep(1.0)
        assert len(bad.requests) == 1 and len(broken.requests) == 4
        assert [json.loads(q.body)["delivery_attempt"] for q in broken.requests] == [1, 2, 3, 4]

        redo = await n.http.post(f"/notifications/v1/{ws.slug}/deliveries/{dead['deliveryId']}/redeliver",
                                 params={"api_key": key})
        assert redo.status_code == 200
        (again,) = await n.wait_status("delivered", jobId="job-503")  # the receiver answers 200 by now
        assert again["attempts"] == 5


async def test_scheduled_retries_survive_a_notifier_restart(settings: ServiceSettings,
                                                            make_workspace: WorkspaceFactory) -> None:
    ws, key = await make_workspace()
    async with receiver(statuses=[500]) as r:
        config = notifier_settings(settings, [r.host], retry_schedule_s=(3.0,))
        async with running_notifier(config, ws, key) as n:
            await n.request(f"{r.url}/hook", JOB_PAYLOAD)
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and not any(
                    d["attempts"] == 1 and d["status"] == "pending" for d in await n.deliveries()):
                await asyncio.sleep(0.05)
        assert len(r.requests) == 1  # the notifier stopped between attempt 1 and its scheduled retry
        async with running_notifier(config, ws, key) as n:
            (delivered,) = await n.wait_status("delivered", timeout=30)
        assert delivered["attempts"] == 2 and len(r.requests) == 2


async def test_a_slow_receiver_does_not_stall_the_others(settings: ServiceSettings,
                                                         make_workspace: WorkspaceFactory) -> None:
    ws, key = await make_workspace()
    async with receiver(delay_s=1.5) as slow, receiver() as fast, running_notifier(
            notifier_settings(settings, [slow.host, fast.host], per_endpoint_concurrency=2,
                              request_timeout_s=5.0), ws, key) as n:
        for i in range(8):
            await n.request(f"{slow.url}/hook", {**JOB_PAYLOAD, "event_id": f"slow-{i}"}, subject="slow")
        await asyncio.sleep(0.3)
        started = time.monotonic()
        await n.request(f"{fast.url}/hook", {**JOB_PAYLOAD, "event_id": "fast"}, subject="fast")
        assert await n.wait_status("delivered", jobId="fast", timeout=10)
        assert time.monotonic() - started < 1.5
        assert len(slow.requests) <= 4  # never more than 2 at once on the slow receiver
        assert len(await n.wait_status("delivered", count=8, jobId="slow", timeout=30)) == 8


async def test_unsafe_targets_are_refused_without_a_request(settings: ServiceSettings,
                                                            make_workspace: WorkspaceFactory) -> None:
    ws, key = await make_workspace()
    async with running_notifier(notifier_settings(settings, []), ws, key) as n:
        await n.request("http://127.0.0.1:9/hook", JOB_PAYLOAD)
        await n.request("http://169.254.169.254/latest", {**JOB_PAYLOAD, "event_id": "meta"}, subject="meta")
        failed = await n.wait_status("failed", count=2)
        assert len(failed) == 2 and all("unsafe-url-detected" in d["lastError"] for d in failed)
        listed = await n.http.get(f"/notifications/v1/{ws.slug}/deliveries", params={"api_key": key,
                                                                                    "status": "bogus"})
        assert listed.status_code == 400


@contextlib.asynccontextmanager
async def _huge_answer_receiver(sent: list[int]) -> AsyncIterator[str]:
    """A receiver that answers 200 with a body of a gibibyte, counting what it managed to send."""

    async def handle(request: Request) -> StreamingResponse:
        await request.body()

        async def body() -> AsyncIterator[bytes]:
            chunk = b"x" * (1024 * 1024)
            for _ in range(1024):  # about 10 s to send whole, if anyone read it
                if await request.is_disconnected():
                    return
                sent.append(len(chunk))
                yield chunk
                await asyncio.sleep(0.01)

        return StreamingResponse(body(), media_type="text/plain")

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(Starlette(routes=[Route("/{p:path}", handle, methods=["POST"])]),
                                           host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.02)
    try:
        yield f"127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


async def test_a_huge_answer_is_never_read(settings: ServiceSettings, make_workspace: WorkspaceFactory) -> None:
    ws, key = await make_workspace()
    sent: list[int] = []
    async with _huge_answer_receiver(sent) as host, running_notifier(notifier_settings(settings, [host]), ws,
                                                                     key) as n:
        started = time.monotonic()
        await n.request(f"http://{host}/hook", JOB_PAYLOAD)
        (delivered,) = await n.wait_status("delivered")
        assert delivered["attempts"] == 1 and time.monotonic() - started < 5
        await asyncio.sleep(1.0)
    # the notifier read the status line and hung up: the receiver saw it leave long before the gibibyte
    assert sum(sent) < 256 * 1024 * 1024


async def test_a_trickling_receiver_gets_one_numbered_attempt_at_a_time(
        settings: ServiceSettings, make_workspace: WorkspaceFactory) -> None:
    """Each attempt has a total deadline within its lease: a receiver that answers too late sees attempts 1, 2,
    3 one after the other, never two at once and never one number twice."""
    ws, key = await make_workspace()
    config = notifier_settings(settings, [], request_timeout_s=0.5, lease_s=1.0, max_attempts=3,
                               retry_schedule_s=(0.1,))
    async with receiver(delay_s=3.0) as r:
        config = config.model_copy(update={"webhook_allowed_hosts": [r.host]})
        async with running_notifier(config, ws, key) as n:
            await n.request(f"{r.url}/hook", JOB_PAYLOAD)
            (dead,) = await n.wait_status("dead", timeout=30)
            await asyncio.sleep(1.5)  # any stale attempt would have shown up by now
            numbers = [json.loads(req.body)["delivery_attempt"] for req in r.requests]
            assert numbers == [1, 2, 3] and dead["attempts"] == 3
            assert "no complete answer within 0.5s" in dead["lastError"]


def test_an_attempt_deadline_must_be_shorter_than_the_lease() -> None:
    with pytest.raises(ValueError, match="shorter than NOTIFIER_LEASE_S"):
        NotifierSettings(request_timeout_s=30, lease_s=30)


async def test_a_rotated_secret_signs_beside_the_new_one_for_the_grace_period(
        settings: ServiceSettings, make_workspace: WorkspaceFactory, pool: asyncpg.Pool) -> None:
    ws, key = await make_workspace()
    async with receiver() as r, running_notifier(notifier_settings(settings, [r.host]), ws, key) as n:
        path = f"/notifications/v1/{ws.slug}/signing-secret"
        shown = (await n.http.get(path, params={"api_key": key})).json()
        old, _ = await _secret_and_key(pool, ws.id)
        assert shown == {"secret": old, "previousSecretValidUntil": None}
        rotated = (await n.http.post(f"{path}/rotate", params={"api_key": key})).json()
        new = rotated["secret"]
        assert new != old and new.startswith("whsec_") and rotated["previousSecretValidUntil"]

        await n.request(f"{r.url}/hook", {**JOB_PAYLOAD, "event_id": "evt-rot-1"})
        await n.wait_status("delivered", count=1)
        first = r.requests[-1]
        assert len(first.headers["webhook-signature"].split()) == 2
        webhooks.verify(old, first.headers, first.body)  # a receiver still on the old secret
        webhooks.verify(new, first.headers, first.body)  # and one that switched

        await pool.execute("UPDATE webhook_signing SET previous_until = now() - interval '1 second'"
                           " WHERE workspace_id = $1::uuid", ws.id)  # the grace period is over
        await n.request(f"{r.url}/hook", {**JOB_PAYLOAD, "event_id": "evt-rot-2"})
        await n.wait_status("delivered", count=2)
        second = r.requests[-1]
        webhooks.verify(new, second.headers, second.body)
        with pytest.raises(webhooks.InvalidSignature):
            webhooks.verify(old, second.headers, second.body)
        _, other_key = await make_workspace()
        assert (await n.http.get(path, params={"api_key": other_key})).status_code == 403


async def test_a_receiver_down_past_many_retries_gets_every_webhook_in_order_when_it_returns(
        settings: ServiceSettings, make_workspace: WorkspaceFactory) -> None:
    """Three jobs, three webhooks each, while the receiver is down for 6 s: past five attempts of the
    (shortened) schedule. When it returns, all nine arrive, each job's in the order they were stored, each
    numbered by its own attempts; and as soon as one webhook gets through (a new job's, here), the backlog
    goes at once, not when each retry falls due."""
    ws, key = await make_workspace()
    schedule = (0.3, 0.6, 1.2, 2.4, 8.0)
    async with receiver(started=False) as r, running_notifier(
            notifier_settings(settings, [r.host], retry_schedule_s=schedule, max_attempts=7), ws, key) as n:
        for i in range(3):
            for job in ("job-a", "job-b", "job-c"):
                await n.request(f"{r.url}/hook", {**JOB_PAYLOAD, "event_id": f"{job}-{i}", "job_id": job, "seq": i},
                                subject=job)
        await asyncio.sleep(6.0)
        waiting = await n.deliveries()
        assert len(waiting) == 9 and {d["status"] for d in waiting} == {"pending"}
        firsts = {d["subjectId"]: d for d in waiting if d["payload"]["seq"] == 0}
        assert all(d["attempts"] == 5 for d in firsts.values())  # at 0, 0.3, 0.9, 2.1 and 4.5 s
        assert all(d["attempts"] == 0 for d in waiting if d["payload"]["seq"] > 0)  # waiting their turn
        await r.start()
        back = time.monotonic()
        await n.request(f"{r.url}/hook", {**JOB_PAYLOAD, "event_id": "job-d-0", "job_id": "job-d", "seq": 0},
                        subject="job-d")
        delivered = await n.wait_status("delivered", count=10, timeout=20)
        assert len(delivered) == 10
        assert time.monotonic() - back < 4.0  # the next scheduled retry of the first ones was 5.7 s or more away
    bodies = [json.loads(q.body) for q in r.requests]
    assert len(bodies) == 10 and bodies[0]["job_id"] == "job-d"
    for job in ("job-a", "job-b", "job-c"):
        assert [b["seq"] for b in bodies if b["job_id"] == job] == [0, 1, 2]
        by_seq = {d["payload"]["seq"]: d for d in delivered if d["subjectId"] == job}
        assert by_seq[0]["attempts"] == 6 and by_seq[1]["attempts"] == by_seq[2]["attempts"] == 1
    assert sorted(b["delivery_attempt"] for b in bodies) == [1] * 7 + [6] * 3


async def test_dead_letters_are_listed_and_redelivered_in_bulk(settings: ServiceSettings,
                                                               make_workspace: WorkspaceFactory) -> None:
    ws, key = await make_workspace()
    async with receiver(statuses=[503] * 6) as r, running_notifier(
            notifier_settings(settings, [r.host], max_attempts=2, retry_schedule_s=(0.1,)), ws, key) as n:
        for job in ("job-x", "job-y", "job-z"):
            await n.request(f"{r.url}/hook", {**JOB_PAYLOAD, "event_id": f"{job}-0", "job_id": job}, subject=job)
        dead = await n.wait_status("dead", count=3)
        assert len(dead) == 3
        base = f"/notifications/v1/{ws.slug}/deliveries/redeliver"
        wrong = await n.http.post(base, params={"api_key": key, "status": "pending"})
        assert wrong.status_code == 400 and "dead or failed" in wrong.json()["message"]
        one = await n.http.post(base, params={"api_key": key, "jobId": "job-x"})
        assert one.status_code == 200 and one.json()["redelivered"] == 1
        rest = await n.http.post(base, params={"api_key": key})
        assert rest.json()["redelivered"] == 2  # job-x is no longer dead
        delivered = await n.wait_status("delivered", count=3)
    assert sorted(d["subjectId"] for d in delivered) == ["job-x", "job-y", "job-z"]
    assert all(d["attempts"] == 3 for d in delivered)  # two before, the third after the redelivery
