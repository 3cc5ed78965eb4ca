"""A job over a batch still being staged is refused with what is still open, learnt from the batch (which ingest
keeps) and never from ingest's shards; once the batch is sealed, the same job runs."""

from __future__ import annotations

from tests.fixtures.media import jpeg, tar_of
from tests.fixtures.pipeline import Pipeline, job_body
from tests.fixtures.staging import shards_settled, upload_tar
from tests.fixtures.workflows import detect_workflow


async def test_a_job_waits_for_its_batch_to_be_sealed(pipeline: Pipeline) -> None:
    p = pipeline
    await upload_tar(p.staging, "open", tar_of({f"f{i}.jpg": jpeg(i) for i in range(3)}))
    await shards_settled(p.staging, "open")
    assert (await p.put_workflow("detect", detect_workflow())).status_code == 200
    body = job_body(p.staging.workspace.slug, "open", "detect")
    # a second archive's link is handed out and not used yet: more files may come
    link = await p.staging.post("/batches/open/bulk-upload/image-files")
    assert link.status_code == 200, link.text
    for path in ("/jobs/too-soon", "/jobs/estimate"):
        refused = await p.jobs_post(path, json=body)
        message = refused.json()["message"]
        assert refused.status_code == 409 and "still being staged" in message and "upload link valid until" in message
    details = link.json()["signedURLDetails"]
    put = await p.staging.http.put(details["uploadURL"].removeprefix(p.staging.settings.public_url),
                                   content=tar_of({"g.jpg": jpeg(9)}), headers=details["extensionHeaders"])
    assert put.status_code == 200
    await shards_settled(p.staging, "open")
    assert (await p.jobs_post("/jobs/in-time", json=body)).status_code == 200
    job = await p.wait_job("in-time")
    assert job["state"] == "succeeded"
    tasks = (await p.jobs_get("/jobs/in-time/stages/processing/tasks")).json()["tasks"]
    assert sum(t["notification"]["filesProcessed"] for t in tasks) == 4  # both archives' files
