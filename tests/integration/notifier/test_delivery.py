import asyncio
import json
import time

import asyncpg
import pytest

from shared import webhooks
from shared.config import ServiceSettings
from tests.fixtures.notifier import notifier_settings, running_notifier
from tests.fixtures.receiver import receiver
from tests.fixtures.resources import WorkspaceFactory

JOB_PAYLOAD = {"type": "roboflow-batch-job-notification-v1", "event_id": "evt-1", "job_id": "job-1",
               "job_state": "success"}


async def _secret_and_key(pool: asyncpg.Pool, ws_id: str) -> tuple[str, str]:
    row = await pool.fetchrow("SELECT webhook_secret, publishable_key FROM workspaces WHERE id = $1::uuid", ws_id)
    return row["webhook_secret"], row["publishable_key"]


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
            if found and found[0]["attempts"] >= 2:
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
        config = notifier_settings(settings, [r.host], backoff_base_s=3.0)
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
