"""POST .../jobs/estimate: a sample of the batch run as a small real job, and what the whole job would take.

How close the figures come to a real run is measured by bench.estimate, not here: these tests hold what the
answer is made of (which files ran, the arithmetic, the bookkeeping of the sample job) at each boundary."""

from __future__ import annotations

from typing import Any

import pytest

from shared.storage import ObjectStore
from tests.fixtures.media import bus_video, jpeg, tar_of
from tests.fixtures.pipeline import Pipeline, job_body
from tests.fixtures.staging import shards_settled, upload_tar
from tests.fixtures.workflows import detect_workflow

PRICED = {"scheduler": {"machine_hour_prices": {"cpu": 2.5}, "cost_unit": "EUR"}}


async def _staged(p: Pipeline, batch: str, count: int) -> None:
    await upload_tar(p.staging, batch, tar_of({f"f{i:03d}.jpg": jpeg(i) for i in range(count)}))
    await shards_settled(p.staging, batch)


async def _estimate(p: Pipeline, batch: str, **spec: Any) -> dict[str, Any]:
    resp = await p.jobs_post("/jobs/estimate", json=job_body(p.staging.workspace.slug, batch, "detect", **spec))
    assert resp.status_code == 200, resp.text
    return resp.json()


@pytest.mark.parametrize("pipeline", [PRICED], indirect=True)
async def test_an_estimate_runs_a_spread_sample_and_predicts_the_whole_job(pipeline: Pipeline) -> None:
    p = pipeline
    await _staged(p, "many", 41)
    assert (await p.put_workflow("detect", detect_workflow())).status_code == 200
    est = await _estimate(p, "many", notificationsURL=f"{p.hook.url}/jobs")
    # the whole job: 41 files in tasks of 2 (the test scheduler's images_per_task)
    assert (est["files"], est["tasks"], est["machineType"], est["parallelTasks"]) == (41, 21, "cpu", 1)  # 1 worker
    assert est["sample"]["tasks"] == 6 and est["sample"]["files"] == 30
    runtime, hours = est["runtimeSeconds"], est["machineHours"]
    assert 0 <= runtime["low"] <= runtime["value"] <= runtime["high"] and runtime["value"] > 0  # low: 0 at worst
    assert hours["value"] == pytest.approx(runtime["value"] / 3600, rel=1e-3)
    assert est["cost"]["value"] == pytest.approx(hours["value"] * 2.5, rel=1e-3)
    assert est["cost"]["unit"] == "EUR" and est["cost"]["pricePerMachineHour"] == 2.5
    assert est["failureRate"]["value"] == 0 and est["failureRate"]["low"] == 0 < est["failureRate"]["high"]
    assert est["outputBytes"]["value"] > 0 and est["processingWallSeconds"]["value"] > 0
    assert est["recommendedProcessingTimeoutSeconds"] >= 60 and est["recommendedProcessingTimeoutSeconds"] % 60 == 0

    # the sample is a real job of the workspace, billed, with its files spread over the batch in two task sizes
    sample_id = est["estimateJobId"]
    assert sample_id in [j["jobId"] for j in (await p.jobs_get("/jobs", search="estimate")).json()["jobs"]]
    job = (await p.jobs_get(f"/jobs/{sample_id}")).json()["job"]
    assert job["state"] == "succeeded" and job["plannedStages"] == ["processing"]
    assert job["billedMachineHours"] == est["sample"]["billedMachineHours"] and job["billedMachineHours"]["cpu"] > 0
    stages = (await p.jobs_get(f"/jobs/{sample_id}/stages")).json()["stages"]
    assert [s["processingStageId"] for s in stages] == ["processing"]
    tasks = (await p.jobs_get(f"/jobs/{sample_id}/stages/processing/tasks")).json()["tasks"]
    assert [t["notification"]["filesProcessed"] for t in tasks] == [2, 8, 2, 8, 2, 8]
    # its results are not kept: the output batch is expired at once, nothing is exported, nobody is called
    batches = (await p.staging.get("/batches")).json()["batches"]
    assert {b["batchId"] for b in batches} == {"many"}
    assert (await p.staging.get(f"/batches/{sample_id}-export/count")).status_code == 404
    # and the job estimated runs as ever, its webhook the first the receiver gets
    assert (await p.jobs_post("/jobs/real", json=job_body(p.staging.workspace.slug, "many", "detect",
                                                          notificationsURL=f"{p.hook.url}/jobs"))).status_code == 200
    assert (await p.wait_job("real"))["state"] == "succeeded"
    assert [h["job_id"] for h in await p.wait_hooks(1)] == ["real"]


async def test_a_batch_no_larger_than_the_sample_runs_whole_and_a_larger_one_in_part(pipeline: Pipeline) -> None:
    p = pipeline
    assert (await p.put_workflow("detect", detect_workflow())).status_code == 200
    for batch, count, sampled, tasks in (("one", 1, 1, 1), ("thirty", 30, 30, 6), ("thirty-one", 31, 30, 6)):
        await _staged(p, batch, count)
        est = await _estimate(p, batch)
        assert (est["files"], est["sample"]["files"], est["sample"]["tasks"]) == (count, sampled, tasks), est
        assert est["cost"] is None  # no price configured
    # a sample of one task tells no spread: the interval is left out, not made up
    assert est["runtimeSeconds"]["low"] is not None
    one = await _estimate(p, "one")
    assert one["runtimeSeconds"]["low"] is None and one["runtimeSeconds"]["high"] is None
    assert one["runtimeSeconds"]["value"] > 0


async def test_an_estimate_gives_the_failure_rate_of_its_sample(pipeline: Pipeline, store: ObjectStore) -> None:
    p = pipeline
    for i in range(10):
        await p.staging.post("/batches/holes/upload/image", files={f"{i}.jpg": (f"{i}.jpg", jpeg(i))},
                             fileName=f"{i}.jpg")
    keys = sorted([k async for k in store.list_keys(f"batches/{p.staging.workspace.id}/holes/")])
    for key in keys[:4]:  # four staged files vanish from storage
        await store.client.delete_object(Bucket=store.settings.staging_bucket, Key=key)
    assert (await p.put_workflow("detect", detect_workflow())).status_code == 200
    est = await _estimate(p, "holes", maxImageFailureRate=0.1)  # the sample runs to its end whatever fails
    rate = est["failureRate"]
    assert rate["value"] == 0.4 and rate["low"] < 0.4 < rate["high"]
    assert (await p.jobs_get(f"/jobs/{est['estimateJobId']}")).json()["job"]["state"] == "succeeded"


async def test_a_video_estimate_runs_the_first_seconds_of_each_video(pipeline: Pipeline) -> None:
    p = pipeline
    for i in range(3):
        await p.stage_video("clips", f"v{i}.mp4", bus_video(frames=80, fps=10))  # 8 s each
    assert (await p.put_workflow("detect", detect_workflow())).status_code == 200
    est = await _estimate(p, "clips", videos=True, maxVideoFPS=5)
    # the three videos in turn run 2 s, 6 s and 2 s; their 24 s are the batch's (all of it was sampled)
    assert est["sample"]["videoSecondsRun"] == pytest.approx(10.0)
    assert est["videoSeconds"] == pytest.approx(24.0) and est["tasks"] == 3
    tasks = (await p.jobs_get(f"/jobs/{est['estimateJobId']}/stages/processing/tasks")).json()["tasks"]
    assert len(tasks) == 3 and all(t["notification"]["state"] == "succeeded" for t in tasks)
    assert est["runtimeSeconds"]["value"] > 0 and est["outputBytes"]["value"] > 0


@pytest.mark.parametrize("pipeline", [{"scheduler": {"estimate_sample_tasks": 2}}], indirect=True)
async def test_the_seconds_of_videos_left_out_of_the_sample_come_from_their_bytes(pipeline: Pipeline) -> None:
    p = pipeline
    for i in range(3):
        await p.stage_video("clips", f"v{i}.mp4", bus_video(frames=80, fps=10))  # 8 s each, the same bytes
    assert (await p.put_workflow("detect", detect_workflow())).status_code == 200
    est = await _estimate(p, "clips", videos=True, maxVideoFPS=5)
    # two videos sampled (2 s and 6 s of them run); the third's 8 s from its bytes at their seconds per byte
    assert (est["sample"]["tasks"], est["tasks"]) == (2, 3)
    assert est["sample"]["videoSecondsRun"] == pytest.approx(8.0) and est["videoSeconds"] == pytest.approx(24.0)


@pytest.mark.parametrize("pipeline", [{"scheduler": {"estimate_wait_s": 0.01}}], indirect=True)
async def test_an_estimate_that_cannot_end_in_time_or_has_no_batch_is_refused(pipeline: Pipeline) -> None:
    p = pipeline
    await _staged(p, "slow", 3)
    assert (await p.put_workflow("detect", detect_workflow())).status_code == 200
    ws = p.staging.workspace.slug
    resp = await p.jobs_post("/jobs/estimate", json=job_body(ws, "slow", "detect"))
    assert resp.status_code == 503 and "did not end within" in resp.json()["message"], resp.text
    sample_id = resp.json()["message"].split()[4]
    assert (await p.jobs_get(f"/jobs/{sample_id}")).json()["job"]["state"] == "aborted"
    missing = await p.jobs_post("/jobs/estimate", json=job_body(ws, "nothing-here", "detect"))
    assert missing.status_code == 400 and "does not exist" in missing.json()["message"]
    # the path is the estimate's: a job body sent to it never makes a job named "estimate"
    assert (await p.jobs_get("/jobs/estimate")).status_code == 404
