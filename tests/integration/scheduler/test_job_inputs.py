"""What a job's request asks for takes effect, or is refused when it is created: per-image metadata as
workflow inputs, parameter types, machine types without workers, reserved output names, output batches."""

import asyncio
import json
import logging
import time

import asyncpg
import cv2
import numpy as np
import pytest

from tests.fixtures.media import photo
from tests.fixtures.pipeline import Pipeline, job_body
from tests.fixtures.workflows import DETECTOR, detect_workflow


async def _upload(p: Pipeline, batch: str, images: dict[str, bytes]) -> None:
    for name, data in images.items():
        resp = await p.staging.post(f"/batches/{batch}/upload/image", files={name: (name, data)}, fileName=name)
        assert resp.status_code == 200, resp.text


def _grey() -> bytes:
    ok, buf = cv2.imencode(".jpg", np.full((64, 64, 3), 128, np.uint8))
    assert ok
    return buf.tobytes()


async def _records(p: Pipeline, job_id: str) -> dict[str, dict]:
    members = await p.export_files(job_id)
    rows = [json.loads(line) for name, data in members.items() if name.endswith(".jsonl")
            for line in data.decode().splitlines()]
    return {r["image"]: r for r in rows}


async def test_per_image_metadata_feeds_workflow_inputs(pipeline: Pipeline) -> None:
    p = pipeline
    bus = photo("bus.jpg")
    await _upload(p, "meta", {"loose.jpg": bus, "strict.jpg": bus, "unlisted.jpg": bus, "keyless.jpg": bus})
    lines = [{"fileName": "loose.jpg", "metadata": {"conf": 0.25, "site": "a"}},
             {"fileName": "strict.jpg", "metadata": {"conf": 0.999}},
             {"fileName": "keyless.jpg", "metadata": {"site": "b"}}]
    body = "".join(json.dumps(line) + "\n" for line in lines).encode()
    resp = await p.staging.http.post(p.staging.path("/batches/meta/upload/metadata"), content=body,
                                     params={"api_key": p.staging.key, "partName": "meta"})
    assert resp.status_code == 200 and resp.json()["records"] == 3, resp.text
    parts = (await p.staging.get("/batches/meta/parts")).json()["batchParts"]
    assert [(x["partName"], x["partType"]) for x in parts] == [("meta", "metadata-part")]
    assert (await p.staging.get("/batches/meta/count")).json() == {"count": 4}  # metadata is not a file
    await p.put_workflow("detect", detect_workflow())

    def body_with(**job_input: object) -> dict:
        b = job_body(p.staging.workspace.slug, "meta", "detect", imagesMetadataInputsMapping={"confidence": "conf"})
        b["jobInput"].update(job_input)
        return b

    missing_part = await p.jobs_post("/jobs/meta-bad", json=body_with(imagesMetadataPart="nope"))
    assert missing_part.status_code == 400 and "no metadata part 'nope'" in missing_part.json()["message"]
    lone_mapping = await p.jobs_post("/jobs/meta-bad", json=body_with())
    assert lone_mapping.status_code == 400 and "go together" in lone_mapping.json()["message"]
    bad_input = body_with(imagesMetadataPart="meta")
    bad_input["processingSpecification"]["imagesMetadataInputsMapping"] = {"threshold": "conf"}
    unknown = await p.jobs_post("/jobs/meta-bad", json=bad_input)
    assert unknown.status_code == 400 and "unknown workflow inputs: ['threshold']" in unknown.json()["message"]

    assert (await p.jobs_post("/jobs/meta-job", json=body_with(imagesMetadataPart="meta"))).status_code == 200
    job = await p.wait_job("meta-job")
    assert job["state"] == "succeeded", job
    records = await _records(p, "meta-job")
    assert set(records) == {"loose.jpg", "strict.jpg"}
    assert records["loose.jpg"]["count"] >= 3 and records["strict.jpg"]["count"] == 0
    logs = (await p.jobs_get("/jobs/meta-job/logs", severity="warning")).json()["logs"]
    failed = {f["fileName"]: f["reason"] for entry in logs for f in entry["payload"].get("failedFiles", [])}
    assert "no record in the job's imagesMetadataPart" in failed["unlisted.jpg"]
    assert "lacks 'conf'" in failed["keyless.jpg"]

    # a job in which every file fails has failed, although it named no maxImageFailureRate
    nothing = body_with(imagesMetadataPart="meta")
    nothing["processingSpecification"]["imagesMetadataInputsMapping"] = {"confidence": "absent"}
    assert (await p.jobs_post("/jobs/meta-none", json=nothing)).status_code == 200
    job = await p.wait_job("meta-none")
    assert job["state"] == "failed" and "every file failed (4 of 4)" in job["reason"], job


async def test_workers_per_machine_sets_the_images_in_flight(pipeline: Pipeline,
                                                              caplog: pytest.LogCaptureFixture) -> None:
    p = pipeline
    await _upload(p, "wpm", {"bus.jpg": photo("bus.jpg"), "b.jpg": photo("zidane.jpg")})
    await p.put_workflow("detect", detect_workflow())
    body = job_body(p.staging.workspace.slug, "wpm", "detect")
    body["computeConfiguration"]["workersPerMachine"] = 3
    body["inferenceBackend"] = "inference-models"
    with caplog.at_level(logging.INFO, logger="worker_svc.service"):
        assert (await p.jobs_post("/jobs/wpm-job", json=body)).status_code == 200
        assert (await p.wait_job("wpm-job"))["state"] == "succeeded"
    assert any("3 in flight" in r.getMessage() for r in caplog.records if r.name == "worker_svc.service")
    body["inferenceBackend"] = "tensorflow"
    refused = await p.jobs_post("/jobs/wpm-bad", json=body)
    assert refused.status_code == 422 and "inferenceBackend" in refused.json()["message"]
    body["inferenceBackend"] = None
    body["computeConfiguration"]["workersPerMachine"] = True  # JSON true is not a count
    refused = await p.jobs_post("/jobs/wpm-bad", json=body)
    assert refused.status_code == 422 and "workersPerMachine" in refused.json()["message"]


async def test_wrong_typed_parameters_and_reserved_output_names(pipeline: Pipeline) -> None:
    p = pipeline
    await _upload(p, "types", {"bus.jpg": photo("bus.jpg")})
    await p.put_workflow("detect", detect_workflow())
    wrong = job_body(p.staging.workspace.slug, "types", "detect", workflowParameters={"confidence": "high"})
    resp = await p.jobs_post("/jobs/types-bad", json=wrong)
    assert resp.status_code == 400 and "workflowParameters.confidence is 'high'" in resp.json()["message"]
    flag = job_body(p.staging.workspace.slug, "types", "detect", workflowParameters={"confidence": True})
    assert (await p.jobs_post("/jobs/types-bad", json=flag)).status_code == 400

    # a workflow output named like the input's column keeps its value under another key
    spec = detect_workflow()
    spec["outputs"] = [{"type": "JsonField", "name": "image", "selector": "$steps.count.output"}]
    await p.put_workflow("clash", spec)
    assert (await p.jobs_post("/jobs/clash-job", json=job_body(p.staging.workspace.slug, "types", "clash"))
            ).status_code == 200
    assert (await p.wait_job("clash-job"))["state"] == "succeeded"
    (record,) = (await _records(p, "clash-job")).values()
    assert record["image"] == "bus.jpg" and record["image_output"] >= 1


@pytest.mark.parametrize("pipeline", [{"scheduler": {"queue_wait_s": 1.0}}], indirect=True)
async def test_a_gpu_job_whose_gpu_worker_vanished_moves_to_cpu(pipeline: Pipeline, pool: asyncpg.Pool) -> None:
    p = pipeline
    await _upload(p, "moved", {"bus.jpg": photo("bus.jpg"), "b.jpg": photo("zidane.jpg")})
    await p.put_workflow("detect", detect_workflow())
    worker = f"gpu-{p.staging.workspace.id}"
    await pool.execute("INSERT INTO worker_heartbeats (worker_id, machine_type) VALUES ($1, 'gpu')", worker)
    body = job_body(p.staging.workspace.slug, "moved", "detect")
    body["computeConfiguration"]["machineType"] = "gpu"
    assert (await p.jobs_post("/jobs/moved-job", json=body)).status_code == 200
    await asyncio.sleep(0.5)
    tasks = (await p.jobs_get("/jobs/moved-job/stages/processing/tasks")).json()["tasks"]
    assert [(t["notification"]["state"], t["progress"]) for t in tasks] == [("queued", None)]  # not started
    await pool.execute("DELETE FROM worker_heartbeats WHERE worker_id = $1", worker)  # the gpu worker is gone

    job = await p.wait_job("moved-job", timeout=60)
    assert job["state"] == "succeeded", job
    assert set(job["billedMachineHours"]) == {"cpu"}
    logs = (await p.jobs_get("/jobs/moved-job/logs")).json()["logs"]
    assert any(e["logType"] == "machine-type-fallback" and "no gpu worker was live" in e["payload"]["reason"]
               for e in logs)


@pytest.mark.parametrize("pipeline", [{"scheduler": {"queue_wait_s": 1.0, "unserved_machine_type": "fail"}}],
                         indirect=True)
async def test_with_policy_fail_an_unserved_machine_type_fails_fast(pipeline: Pipeline, pool: asyncpg.Pool) -> None:
    p = pipeline
    await _upload(p, "unserved", {"bus.jpg": photo("bus.jpg")})
    await p.put_workflow("detect", detect_workflow())
    body = job_body(p.staging.workspace.slug, "unserved", "detect")
    body["computeConfiguration"]["machineType"] = "gpu"
    refused = await p.jobs_post("/jobs/unserved-job", json=body)
    assert refused.status_code == 409 and "no gpu worker is running" in refused.json()["message"]

    worker = f"gpu-{p.staging.workspace.id}"
    await pool.execute("INSERT INTO worker_heartbeats (worker_id, machine_type) VALUES ($1, 'gpu')", worker)
    assert (await p.jobs_post("/jobs/unserved-job", json=body)).status_code == 200
    await pool.execute("DELETE FROM worker_heartbeats WHERE worker_id = $1", worker)
    started = time.monotonic()
    job = await p.wait_job("unserved-job", timeout=30)
    assert job["state"] == "failed" and "no gpu worker was live" in job["reason"], job
    assert time.monotonic() - started < 15
    assert job["currentStage"] == "processing"  # it never reached the export stage


async def test_output_batches_are_refused_when_taken_and_live_seven_days(pipeline: Pipeline,
                                                                        pool: asyncpg.Pool) -> None:
    p = pipeline
    await _upload(p, "old", {"bus.jpg": photo("bus.jpg")})
    await _upload(p, "taken-processing", {"x.jpg": photo("zidane.jpg")})
    await p.put_workflow("detect", detect_workflow())
    # the input batch is six days old: its job's results must still live seven days
    await pool.execute("UPDATE batches SET expires_at = now() + interval '1 day'"
                       " WHERE workspace_id = $1::uuid AND batch_id = 'old'", p.staging.workspace.id)
    taken = await p.jobs_post("/jobs/taken", json=job_body(p.staging.workspace.slug, "old", "detect"))
    assert taken.status_code == 409 and "'taken-processing' already exists" in taken.json()["message"]
    assert (await p.jobs_get("/jobs/taken")).status_code == 404  # nothing of the refused job is left

    assert (await p.jobs_post("/jobs/fresh", json=job_body(p.staging.workspace.slug, "old", "detect"))
            ).status_code == 200
    rows = await pool.fetch("SELECT batch_id, expires_at - now() AS left FROM batches WHERE workspace_id = $1::uuid"
                            " AND batch_id LIKE 'fresh-%'", p.staging.workspace.id)
    assert len(rows) == 2 and all(r["left"].days == 6 and r["left"].seconds > 23 * 3600 for r in rows)


async def test_request_bodies_and_workflows_are_bounded_and_workflows_paged(pipeline: Pipeline) -> None:
    p = pipeline
    huge = job_body(p.staging.workspace.slug, "x", "detect", workflowParameters={"pad": "x" * (40 * 1024 * 1024)})
    resp = await p.jobs_post("/jobs/huge", json=huge)
    assert resp.status_code == 413 and resp.json()["error"] == "TooLarge"
    big = detect_workflow()
    big["description"] = "y" * (2 * 1024 * 1024)
    resp = await p.put_workflow("big", big)
    assert resp.status_code == 413 and "1048576 bytes" in resp.json()["message"]
    for i in range(5):
        assert (await p.put_workflow(f"wf-{i}", detect_workflow())).status_code == 200
    seen, token = [], None
    while True:
        page = (await p.jobs.get(f"/{p.staging.workspace.slug}/workflows", params={
            "api_key": p.staging.key, "pageSize": 2, **({"nextPageToken": token} if token else {})})).json()
        assert len(page["workflows"]) <= 2
        seen += [w["id"] for w in page["workflows"]]
        token = page["nextPageToken"]
        if not token:
            break
    assert seen == [f"wf-{i}" for i in range(5)]


async def test_inputs_a_step_needs_are_required_and_a_block_failing_on_one_image_fails_that_file(
        pipeline: Pipeline) -> None:
    p = pipeline
    await _upload(p, "needs", {"bus.jpg": photo("bus.jpg"), "blank.jpg": _grey()})
    spec = detect_workflow(model_id="$inputs.model")
    spec["inputs"].append({"type": "WorkflowParameter", "name": "model"})  # no default_value
    # Roboflow's editor writes "image" for the model's input: an alias of "images"
    spec["steps"][0]["image"] = spec["steps"][0].pop("images")
    # the most common class of an image without detections: an empty sequence cannot be aggregated
    spec["steps"].append({"type": "roboflow_core/property_definition@v1", "name": "top",
                          "data": "$steps.model.predictions",
                          "operations": [{"type": "DetectionsPropertyExtract", "property_name": "class_name"},
                                         {"type": "SequenceAggregate", "mode": "most_common"}]})
    spec["outputs"].append({"type": "JsonField", "name": "top", "selector": "$steps.top.output"})
    assert (await p.put_workflow("needs-model", spec)).status_code == 200
    resp = await p.jobs_post("/jobs/needs-none", json=job_body(p.staging.workspace.slug, "needs", "needs-model"))
    assert resp.status_code == 400, resp.text
    assert "'model' (step 'model' needs it for 'model_id'" in resp.json()["message"]

    body = job_body(p.staging.workspace.slug, "needs", "needs-model", workflowParameters={"model": DETECTOR})
    assert (await p.jobs_post("/jobs/needs-given", json=body)).status_code == 200
    job = await p.wait_job("needs-given")
    assert job["state"] == "succeeded", job
    (record,) = (await _records(p, "needs-given")).values()
    assert record["image"] == "bus.jpg" and record["top"] == "person"
    logs = (await p.jobs_get("/jobs/needs-given/logs")).json()["logs"]
    failed = {f["fileName"]: f["reason"] for log in logs if log["logType"] == "files-failed"
              for f in log["payload"]["failedFiles"]}
    assert list(failed) == ["blank.jpg"]
    assert "step 'top' (roboflow_core/property_definition@v1)" in failed["blank.jpg"]
    assert "empty sequence" in failed["blank.jpg"]
