import asyncio
import time

import asyncpg
import pytest

from tests.fixtures.media import jpeg
from tests.fixtures.pipeline import Pipeline, job_body
from tests.fixtures.workflows import detect_workflow


async def _stage(p: Pipeline, batch: str, n: int) -> None:
    for i in range(n):
        resp = await p.staging.post(f"/batches/{batch}/upload/image", files={f"{i}.jpg": (f"{i}.jpg", jpeg(i))},
                                    fileName=f"{i:03d}.jpg")
        assert resp.status_code == 200


async def _task_states(pool: asyncpg.Pool, ws: str, job: str) -> dict[str, int]:
    rows = await pool.fetch("SELECT state, count(*) AS n FROM tasks WHERE workspace_id = $1::uuid AND job_id = $2"
                            " AND stage_id = 'processing' GROUP BY state", ws, job)
    return {r["state"]: r["n"] for r in rows}


async def test_abort_stops_the_job_within_seconds_and_restart_skips_finished_tasks(
        pipeline: Pipeline, pool: asyncpg.Pool) -> None:
    p = pipeline
    ws = p.staging.workspace
    await _stage(p, "many", 40)
    await p.put_workflow("detect", detect_workflow())
    body = job_body(ws.slug, "many", "detect", maxParallelTasks=2)
    assert (await p.jobs_post("/jobs/abortme", json=body)).status_code == 200
    deadline = time.monotonic() + 60
    while (await _task_states(pool, ws.id, "abortme")).get("succeeded", 0) < 2 and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    aborted = await p.jobs_post("/jobs/abortme/abort")
    assert aborted.status_code == 200 and aborted.json()["message"] == "job aborted"
    asked = time.monotonic()
    job = (await p.jobs_get("/jobs/abortme")).json()["job"]
    assert job["state"] == "aborted" and job["isTerminal"]
    while (await _task_states(pool, ws.id, "abortme")).get("running", 0) and time.monotonic() - asked < 10:
        await asyncio.sleep(0.1)
    assert time.monotonic() - asked < 3, "a worker kept running an aborted job's task"
    states = await _task_states(pool, ws.id, "abortme")
    done_before = states.get("succeeded", 0)
    assert 2 <= done_before < 20 and states.get("aborted", 0) == 20 - done_before
    await asyncio.sleep(1.0)
    assert (await _task_states(pool, ws.id, "abortme")).get("succeeded", 0) == done_before  # nothing ran since

    restarted = await p.jobs_post("/jobs/abortme/restart", json={"type": "parameters-override-v1",
                                                                  "maxParallelTasks": 4})
    assert restarted.status_code == 200, restarted.text
    job = await p.wait_job("abortme")
    assert job["state"] == "succeeded", job
    assert job["restartParametersOverride"][0]["maxParallelTasks"] == 4
    attempts = await pool.fetch("SELECT task_id, count(*) AS n FROM machine_usage WHERE workspace_id = $1::uuid"
                                " AND job_id = 'abortme' GROUP BY task_id", ws.id)
    # tasks finished before the abort were not run again; every task ran exactly once to success
    assert len(attempts) == 20
    assert sum(1 for a in attempts if a["n"] == 1) >= done_before
    again = await p.jobs_post("/jobs/abortme/restart")
    assert again.status_code == 409 and "only failed or aborted" in again.json()["message"]


# the reference runtime, whatever a gate verdict cached on this machine says: OpenVINO bf16 does the 90 images
# below in well under the 1 s limit, and the test is about the limit, not the speed
@pytest.mark.parametrize("pipeline", [{"worker": {"runtime": "onnxruntime", "precision": "fp32"}}], indirect=True)
async def test_cumulative_runtime_beyond_the_timeout_fails_the_job(pipeline: Pipeline, pool: asyncpg.Pool) -> None:
    p = pipeline
    await _stage(p, "slow", 90)  # about 3 s of work on onnxruntime fp32: well past the 1 s limit
    await p.put_workflow("detect", detect_workflow())
    body = job_body(p.staging.workspace.slug, "slow", "detect", processingTimeoutSeconds=1, maxParallelTasks=1)
    assert (await p.jobs_post("/jobs/timeout", json=body)).status_code == 200
    job = await p.wait_job("timeout")
    assert job["state"] == "failed" and job["error"] and job["isTerminal"], (job["runtimeSeconds"], job["state"])
    assert "processing timeout" in job["reason"] and "processingTimeoutSeconds=1" in job["reason"]
    # stopped on finished plus still-running time: the recorded (finished) runtime may be just below 1 s
    assert 0 < job["runtimeSeconds"] < 10
    states = await _task_states(pool, p.staging.workspace.id, "timeout")
    assert states.get("aborted", 0) > 0 and states.get("succeeded", 0) < 45
    logs = (await p.jobs_get("/jobs/timeout/logs", severity="error")).json()["logs"]
    assert logs and "processing timeout" in logs[-1]["payload"]["reason"]


@pytest.mark.parametrize("pipeline", [{"scheduler": {"task_stall_s": 2.0}}], indirect=True)
async def test_a_running_task_without_heartbeat_is_dispatched_again(pipeline: Pipeline, pool: asyncpg.Pool) -> None:
    """A worker that dies (or a task.done lost with a broker) must not leave a task running forever."""
    p = pipeline
    ws = p.staging.workspace
    await _stage(p, "stall", 2)
    await p.put_workflow("detect", detect_workflow())
    body = job_body(ws.slug, "stall", "detect")
    # a gpu worker that said it was alive and then died: the task waits on the gpu topic
    await pool.execute("INSERT INTO worker_heartbeats (worker_id, machine_type) VALUES ($1, 'gpu')", f"dead-{ws.id}")
    body["computeConfiguration"]["machineType"] = "gpu"
    assert (await p.jobs_post("/jobs/stall-job", json=body)).status_code == 200
    await pool.execute("UPDATE tasks SET state = 'running', updated_at = now() - interval '1 hour'"
                       " WHERE workspace_id = $1::uuid AND job_id = 'stall-job'", ws.id)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        (task,) = (await p.jobs_get("/jobs/stall-job/stages/processing/tasks")).json()["tasks"]
        if task["notification"]["attempt"] == 2:
            break
        await asyncio.sleep(0.2)
    assert task["notification"] == {**task["notification"], "state": "queued", "attempt": 2}
    logs = (await p.jobs_get("/jobs/stall-job/logs")).json()["logs"]
    assert any(entry["logType"] == "tasks-requeued" for entry in logs)
    assert (await p.jobs_post("/jobs/stall-job/abort")).status_code == 200


@pytest.mark.parametrize("pipeline", [{"scheduler": {"task_stall_s": 2.0}}], indirect=True)
async def test_a_queued_task_that_idle_workers_never_took_is_dispatched_again(pipeline: Pipeline,
                                                                              pool: asyncpg.Pool) -> None:
    """Its task.ready was lost (a broker that lost its log): live workers of its type sit idle, it stays queued."""
    p = pipeline
    ws = p.staging.workspace
    await _stage(p, "lost", 2)
    await p.put_workflow("detect", detect_workflow())
    # a live gpu worker that consumes nothing of this job: the job's one task.ready is as good as lost
    await pool.execute("INSERT INTO worker_heartbeats (worker_id, machine_type) VALUES ($1, 'gpu')"
                       " ON CONFLICT (worker_id) DO UPDATE SET beat_at = now()", f"idle-{ws.id}")
    body = job_body(ws.slug, "lost", "detect")
    body["computeConfiguration"]["machineType"] = "gpu"
    assert (await p.jobs_post("/jobs/lost-job", json=body)).status_code == 200
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        (task,) = (await p.jobs_get("/jobs/lost-job/stages/processing/tasks")).json()["tasks"]
        if task["notification"]["attempt"] >= 2:
            break
        await asyncio.sleep(0.2)
    assert task["notification"]["state"] == "queued" and task["notification"]["attempt"] >= 2
    logs = (await p.jobs_get("/jobs/lost-job/logs")).json()["logs"]
    assert any(e["logType"] == "tasks-requeued" and "while no gpu worker ran any task" in e["payload"]["reason"]
               for e in logs)
    assert (await p.jobs_post("/jobs/lost-job/abort")).status_code == 200
    await pool.execute("DELETE FROM worker_heartbeats WHERE worker_id = $1", f"idle-{ws.id}")
