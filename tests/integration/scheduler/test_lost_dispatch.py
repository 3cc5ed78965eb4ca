"""A task whose task.ready was lost is sent again within a bound, even while another workspace keeps the
workers busy the whole time (once, it was sent again only when no task of its machine type ran anywhere)."""

from typing import Any

import asyncpg
import pytest

from scheduler_svc import service
from shared.events import TaskReadyV2
from tests.fixtures.ingest import StagingClient
from tests.fixtures.media import jpeg, tar_of
from tests.fixtures.pipeline import Pipeline, job_body
from tests.fixtures.resources import WorkspaceFactory
from tests.fixtures.staging import shards_settled, upload_tar
from tests.fixtures.workflows import detect_workflow

STALL_S = 2.0


@pytest.mark.parametrize("pipeline", [{"scheduler": {"task_stall_s": STALL_S},
                                       "worker": {"heartbeat_interval_s": 0.5}}], indirect=True)
async def test_a_lost_dispatch_is_sent_again_while_another_workspace_keeps_every_worker_busy(
        pipeline: Pipeline, make_workspace: WorkspaceFactory, pool: asyncpg.Pool,
        monkeypatch: pytest.MonkeyPatch) -> None:
    p = pipeline
    other_ws, other_key = await make_workspace()
    other = Pipeline(StagingClient(p.staging.http, other_ws, other_key, p.staging.settings), p.jobs, p.hook)
    await upload_tar(other.staging, "busy", tar_of({f"b{i:03d}.jpg": jpeg(i, size=(240, 320)) for i in range(400)}))
    await shards_settled(other.staging, "busy")
    for q in (p, other):
        assert (await q.put_workflow("detect", detect_workflow())).status_code == 200
    assert (await other.jobs_post("/jobs/busy", json=job_body(other_ws.slug, "busy", "detect",
                                                               maxParallelTasks=8))).status_code == 200
    assert (await other.wait_job("busy", states=("processing",), timeout=30))["state"] == "processing"

    lost: list[tuple[str, int]] = []
    real = service.enqueue_many

    async def losing(conn: Any, prefix: str, events: list[Any], **kwargs: Any) -> None:
        """The broker loses the first task.ready of job 'mine' (a log lost with a broker)."""
        kept = []
        for event in events:
            if isinstance(event, TaskReadyV2) and event.job_id == "mine" and event.attempt == 1:
                lost.append((event.task_id, event.attempt))
            else:
                kept.append(event)
        if kept:
            await real(conn, prefix, kept, **kwargs)

    monkeypatch.setattr(service, "enqueue_many", losing)
    for i in range(2):
        assert (await p.staging.post("/batches/mine/upload/image", files={f"m{i}.jpg": (f"m{i}.jpg", jpeg(900 + i))},
                                     fileName=f"m{i}.jpg")).status_code == 200
    assert (await p.jobs_post("/jobs/mine", json=job_body(p.staging.workspace.slug, "mine", "detect"))
            ).status_code == 200
    mine = await p.wait_job("mine", timeout=90)
    busy = (await other.jobs_get("/jobs/busy")).json()["job"]
    assert mine["state"] == "succeeded" and len(lost) == 1, (mine, lost)
    assert busy["state"] == "processing"  # the other workspace's job ran the whole time
    logs = (await p.jobs_get("/jobs/mine/logs")).json()["logs"]
    requeued = [entry for entry in logs if entry["logType"] == "tasks-requeued"]
    assert [entry["payload"]["reason"] for entry in requeued] == [
        "queued for 2s and passed by a task queued after it on its partition"]
