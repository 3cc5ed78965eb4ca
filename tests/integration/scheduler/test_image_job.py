import json

import pytest

from shared.storage import ObjectStore
from tests.fixtures.media import jpeg, photo, tar_of
from tests.fixtures.pipeline import Pipeline, job_body
from tests.fixtures.staging import shards_settled, upload_tar
from tests.fixtures.workflows import detect_workflow, noop_workflow


async def _stage_photos(p: Pipeline, batch: str) -> dict[str, bytes]:
    images = {"bus.jpg": photo("bus.jpg"), "zidane.jpg": photo("zidane.jpg")} | {f"n{i}.jpg": jpeg(i) for i in range(3)}
    for name, data in images.items():
        resp = await p.staging.post(f"/batches/{batch}/upload/image", files={name: (name, data)}, fileName=name)
        assert resp.status_code == 200, resp.text
    return images


async def test_image_job_runs_through_every_stage_and_exports_one_record_per_image(pipeline: Pipeline) -> None:
    p = pipeline
    images = await _stage_photos(p, "photos")
    assert (await p.put_workflow("detect", detect_workflow(visualise=True))).status_code == 200
    body = job_body(p.staging.workspace.slug, "photos", "detect", workflowParameters={"confidence": 0.3},
                    persistImagesOutputs=True, imagesOutputsToBePersisted=["visualization"],
                    notificationsURL=f"{p.hook.url}/jobs")
    resp = await p.jobs_post("/jobs/job-one", json=body)
    assert resp.status_code == 200, resp.text
    job = await p.wait_job("job-one")
    assert job["state"] == "succeeded", job
    assert job["isTerminal"] and not job["error"] and job["progress"] == 1.0
    assert job["runtimeSeconds"] > 0 and job["billedMachineHours"]["cpu"] > 0

    stages = (await p.jobs_get("/jobs/job-one/stages")).json()["stages"]
    assert [s["processingStageId"] for s in stages] == ["processing", "export"]
    assert all(s["statusType"] == "success" and s["tasksNumber"] >= 1 for s in stages)
    assert stages[0]["tasksNumber"] == 3  # 5 images, 2 per task
    tasks = (await p.jobs_get("/jobs/job-one/stages/processing/tasks")).json()
    assert tasks["nextPageToken"] is None and {t["statusType"] for t in tasks["tasks"]} == {"success"}

    members = await p.export_files("job-one")
    (results_name,) = [n for n in members if n.endswith(".jsonl")]
    records = [json.loads(line) for line in members[results_name].decode().splitlines()]
    assert sorted(r["image"] for r in records) == sorted(images)
    by_image = {r["image"]: r for r in records}
    bus_classes = [d["class"] for d in by_image["bus.jpg"]["predictions"]["predictions"]]
    assert "bus" in bus_classes and bus_classes.count("person") >= 2
    assert by_image["bus.jpg"]["count"] == len(bus_classes)
    assert "person" in [d["class"] for d in by_image["zidane.jpg"]["predictions"]["predictions"]]
    assert by_image["bus.jpg"]["visualization"] == "visualization__bus.jpg.jpg"
    # archive members have flat names, unique across the export's archives
    assert any(n.endswith(".tar.gz/visualization__bus.jpg.jpg") for n in members)
    assert all(n.count("/") == 1 for n in members)
    assert members[next(n for n in members if n.endswith("/visualization__bus.jpg.jpg"))][:3] == b"\xff\xd8\xff"

    (hook,) = await p.wait_hooks(1)  # the job webhook, through the notifier
    assert hook["type"] == "roboflow-batch-job-notification-v1" and hook["job_id"] == "job-one"
    assert hook["job_state"] == "success" and hook["delivery_attempt"] == 1 and hook["event_id"]


@pytest.mark.parametrize("pipeline", [{"scheduler": {"images_per_task": 25}, "worker": {"prefetch": 4}}],
                         indirect=True)
async def test_tasks_larger_than_the_prefetch_window_process_every_file(pipeline: Pipeline) -> None:
    """Regression: the prefetch window once dropped one file per task beyond its size (found by the chaos suite)."""
    p = pipeline
    names = [f"w{i:02d}.jpg" for i in range(25)]
    for i, name in enumerate(names):
        resp = await p.staging.post("/batches/wide/upload/image", files={name: (name, jpeg(i))}, fileName=name)
        assert resp.status_code == 200, resp.text
    assert (await p.put_workflow("detect", detect_workflow())).status_code == 200
    assert (await p.jobs_post("/jobs/wide-job", json=job_body(p.staging.workspace.slug, "wide", "detect"))
            ).status_code == 200
    job = await p.wait_job("wide-job")
    assert job["state"] == "succeeded", job
    members = await p.export_files("wide-job")
    (results,) = [n for n in members if n.endswith(".jsonl")]
    exported = [json.loads(line)["image"] for line in members[results].decode().splitlines()]
    assert sorted(exported) == names


@pytest.mark.parametrize("pipeline", [{"scheduler": {"images_per_task": 10}, "worker": {"prefetch": 4}}],
                         indirect=True)
async def test_images_of_an_uploaded_tar_are_processed_from_it_and_fail_once_it_is_gone(
        pipeline: Pipeline, store: ObjectStore) -> None:
    p = pipeline
    images = {"bus.jpg": photo("bus.jpg")} | {f"t{i:02d}.jpg": jpeg(i) for i in range(24)}
    await upload_tar(p.staging, "tarred", tar_of(images))
    await shards_settled(p.staging, "tarred")
    assert (await p.put_workflow("detect", detect_workflow())).status_code == 200
    ws = p.staging.workspace.slug
    assert (await p.jobs_post("/jobs/tar-job", json=job_body(ws, "tarred", "detect"))).status_code == 200
    job = await p.wait_job("tar-job")
    assert job["state"] == "succeeded", job
    members = await p.export_files("tar-job")
    (results,) = [n for n in members if n.endswith(".jsonl")]
    records = {r["image"]: r for r in map(json.loads, members[results].decode().splitlines())}
    assert sorted(records) == sorted(images)
    assert "bus" in [d["class"] for d in records["bus.jpg"]["predictions"]["predictions"]]

    # the archive is the files' only copy: once it is gone, they fail with a reason, not the task
    (archive,) = [k async for k in store.list_keys(f"uploads/{p.staging.workspace.id}/tarred/")]
    await store.client.delete_object(Bucket=store.settings.staging_bucket, Key=archive)
    assert (await p.jobs_post("/jobs/tar-gone", json=job_body(ws, "tarred", "detect"))).status_code == 200
    job = await p.wait_job("tar-gone")
    # no maxImageFailureRate was set, yet a job that produced nothing has failed
    assert job["state"] == "failed" and f"every file failed ({len(images)} of {len(images)})" in job["reason"], job
    logs = (await p.jobs_get("/jobs/tar-gone/logs", severity="warning")).json()["logs"]
    failed = {f["fileName"]: f["reason"] for log in logs if log["logType"] == "files-failed"
              for f in log["payload"]["failedFiles"]}
    assert set(failed) == set(images) and all("no longer exists" in r for r in failed.values())


@pytest.mark.parametrize("pipeline", [{"scheduler": {"images_per_task": 2, "max_tasks_per_stage": 3}}],
                         indirect=True)
async def test_a_batch_past_the_task_cap_gets_larger_tasks_and_every_file_once(pipeline: Pipeline) -> None:
    """Both sides of SCHEDULER_MAX_TASKS_PER_STAGE: 6 files fill 3 tasks of 2 exactly; 7 would need a fourth,
    so the 3 tasks grow instead (3 + 2 + 2, spread evenly) and every file is exported exactly once."""
    p = pipeline
    assert (await p.put_workflow("noop", noop_workflow())).status_code == 200
    for batch, count in (("cap-six", 6), ("cap-seven", 7)):
        await upload_tar(p.staging, batch, tar_of({f"{batch}-{i}.jpg": jpeg(i) for i in range(count)}))
        await shards_settled(p.staging, batch)
        assert (await p.jobs_post(f"/jobs/{batch}", json=job_body(p.staging.workspace.slug, batch, "noop"))
                ).status_code == 200
    sizes = {}
    for batch, count in (("cap-six", 6), ("cap-seven", 7)):
        job = await p.wait_job(batch)
        assert job["state"] == "succeeded", job
        tasks = (await p.jobs_get(f"/jobs/{batch}/stages/processing/tasks")).json()["tasks"]
        sizes[batch] = [t["notification"]["filesCount"] for t in tasks]
        members = await p.export_files(batch)
        exported = [json.loads(line)["image"] for name, data in members.items() if name.endswith(".jsonl")
                    for line in data.decode().splitlines()]
        assert sorted(exported) == sorted(f"{batch}-{i}.jpg" for i in range(count))
    assert sizes == {"cap-six": [2, 2, 2], "cap-seven": [3, 2, 2]}
