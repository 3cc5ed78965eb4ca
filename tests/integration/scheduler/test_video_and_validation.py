import csv
import io
import json

import pytest

from shared.storage import ObjectStore
from tests.fixtures.media import bus_video, jpeg, mp4
from tests.fixtures.pipeline import Pipeline, job_body
from tests.fixtures.workflows import detect_workflow


async def test_video_job_samples_frames_and_aggregates_csv(pipeline: Pipeline) -> None:
    p = pipeline
    await p.stage_video("clips", "bus.mp4", bus_video(frames=20, fps=10))
    await p.stage_video("clips", "grey.mp4", mp4(frames=10))
    await p.put_workflow("detect", detect_workflow())
    body = job_body(p.staging.workspace.slug, "clips", "detect", videos=True, maxVideoFPS=5,
                    aggregationFormat="csv")
    assert (await p.jobs_post("/jobs/video-job", json=body)).status_code == 200
    job = await p.wait_job("video-job")
    assert job["state"] == "succeeded", job
    stages = (await p.jobs_get("/jobs/video-job/stages")).json()["stages"]
    assert stages[0]["tasksNumber"] == 2  # one video per task
    members = await p.export_files("video-job")
    (name,) = [n for n in members if n.endswith(".csv")]
    rows = list(csv.DictReader(io.StringIO(members[name].decode())))
    bus_rows = [r for r in rows if r["video"] == "bus.mp4"]
    # 20 frames at 10 fps sampled at 5 fps: every second frame
    assert [int(r["frame_number"]) for r in bus_rows] == list(range(0, 20, 2))
    assert float(bus_rows[1]["frame_timestamp"]) == pytest.approx(0.2)
    classes = [d["class"] for d in json.loads(bus_rows[0]["predictions"])["predictions"]]
    assert "bus" in classes
    assert len([r for r in rows if r["video"] == "grey.mp4"]) == 5


async def test_bad_job_requests_are_refused_clearly(pipeline: Pipeline) -> None:
    p = pipeline
    ws = p.staging.workspace.slug
    await p.staging.post("/batches/imgs/upload/image", files={"a.jpg": ("a.jpg", jpeg(1))}, fileName="a.jpg")
    await p.stage_video("vids", "v.mp4", mp4())
    await p.put_workflow("detect", detect_workflow())
    cases = [
        ("job-a", job_body(ws, "nope", "detect"), 400, "does not exist"),
        ("job-b", job_body(ws, "imgs", "missing-workflow"), 404, "workflow 'missing-workflow'"),
        ("job-c", job_body(ws, "vids", "detect"), 400, "holds videos"),
        ("job-d", job_body("other-ws", "imgs", "detect"), 403, "not this workspace"),
        ("job-e", job_body(ws, "imgs", "detect", workflowParameters={"bogus": 1}), 400, "unknown workflow inputs"),
        ("job-f", job_body(ws, "imgs", "detect", persistImagesOutputs=True, imagesOutputsToBePersisted=["count"]),
         400, "not an image output"),
        ("job-g", job_body(ws, "imgs", "detect", imageInputName="picture"), 400, "imageInputName"),
        ("Bad_Job", job_body(ws, "imgs", "detect"), 400, "lower-case"),
        ("job-" + "x" * 17, job_body(ws, "imgs", "detect"), 400, "longer than 20"),
        ("job-h", {**job_body(ws, "imgs", "detect"), "type": "weird"}, 422, "type"),
        ("job-i", {**job_body(ws, "imgs", "detect"), "maxImageFailureRate": 2}, 422, "maxImageFailureRate"),
        ("job-j", job_body(ws, "imgs", "detect", notificationsURL="http://169.254.169.254/x"), 400,
         "unsafe-url-detected"),
    ]
    for job_id, body, status, fragment in cases:
        resp = await p.jobs_post(f"/jobs/{job_id}", json=body)
        assert resp.status_code == status, (job_id, resp.text)
        assert fragment in resp.text, (job_id, resp.text)
    model_wf = detect_workflow(model_id="no-such-model")
    assert (await p.put_workflow("needs-model", model_wf)).status_code == 200
    resp = await p.jobs_post("/jobs/job-k", json=job_body(ws, "imgs", "needs-model"))
    # the job's request is what is wrong (not its URL): a 400 that says how to register or map the id
    assert resp.status_code == 400 and "no-such-model" in resp.text and "conveyor models alias" in resp.text
    ok = await p.jobs_post("/jobs/job-ok", json=job_body(ws, "imgs", "detect"))
    assert ok.status_code == 200
    dup = await p.jobs_post("/jobs/job-ok", json=job_body(ws, "imgs", "detect"))
    assert dup.status_code == 409 and "already exists" in dup.text
    assert (await p.jobs_get("/jobs/nope")).status_code == 404
    assert (await p.wait_job("job-ok"))["state"] == "succeeded"


async def test_workflow_registry_validates_and_serves_inference_shape(pipeline: Pipeline) -> None:
    p = pipeline
    ws = p.staging.workspace.slug
    blocked = detect_workflow()
    blocked["steps"].append({"type": "roboflow_core/local_file_sink@v1", "name": "sink"})
    resp = await p.put_workflow("bad", blocked)
    assert resp.status_code == 400 and "blocked" in resp.json()["message"]
    assert (await p.put_workflow("good", detect_workflow())).status_code == 200
    got = await p.jobs.get(f"/{ws}/workflows/good", params={"api_key": p.staging.key})
    config = json.loads(got.json()["workflow"]["config"])
    assert got.json()["workflow"]["id"] == "good" and config["specification"] == detect_workflow()
    listed = await p.jobs.get(f"/{ws}/workflows", params={"api_key": p.staging.key})
    assert [w["id"] for w in listed.json()["workflows"]] == ["good"]
    assert (await p.jobs.get(f"/{ws}/workflows/bad", params={"api_key": p.staging.key})).status_code == 404
    models = (await p.jobs.get(f"/{ws}/models", params={"api_key": p.staging.key})).json()["models"]
    default = next(m for m in models if m["modelId"] == "yolov4-tiny-coco")
    assert default["shared"] and len(default["classNames"]) == 80 and default["inputSize"] == 416


async def test_failure_rate_limit_fails_the_job(pipeline: Pipeline, store: ObjectStore) -> None:
    p = pipeline
    for i in range(6):
        await p.staging.post("/batches/fr/upload/image", files={f"{i}.jpg": (f"{i}.jpg", jpeg(i))},
                             fileName=f"{i}.jpg")
    # two staged files vanish from storage before the job runs
    keys = [k async for k in store.list_keys(f"batches/{p.staging.workspace.id}/fr/")]
    for key in sorted(keys)[:2]:
        await store.client.delete_object(Bucket=store.settings.staging_bucket, Key=key)
    await p.put_workflow("detect", detect_workflow())
    body = job_body(p.staging.workspace.slug, "fr", "detect", maxImageFailureRate=0.1)
    assert (await p.jobs_post("/jobs/fr-job", json=body)).status_code == 200
    job = await p.wait_job("fr-job")
    assert job["state"] == "failed" and "maxImageFailureRate" in job["reason"], job
    logs = (await p.jobs_get("/jobs/fr-job/logs", severity="warning")).json()["logs"]
    failed = [f for log in logs if log["logType"] == "files-failed" for f in log["payload"]["failedFiles"]]
    assert failed and all("no longer exists" in f["reason"] for f in failed)
