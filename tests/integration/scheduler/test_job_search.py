"""Finding jobs: by a part of their id, name or workflow id, or by state, newest first, paged."""

from tests.fixtures.media import jpeg
from tests.fixtures.pipeline import Pipeline, job_body
from tests.fixtures.workflows import detect_workflow, noop_workflow


async def _ids(p: Pipeline, search: str, page_size: int = 100) -> list[str]:
    found, token = [], None
    while True:
        params = {"search": search, "pageSize": page_size, **({"nextPageToken": token} if token else {})}
        page = (await p.jobs_get("/jobs", **params)).json()
        found += [j["jobId"] for j in page["jobs"]]
        token = page["nextPageToken"]
        if not token:
            return found


async def test_jobs_are_found_by_id_name_workflow_and_state_across_pages(pipeline: Pipeline) -> None:
    p = pipeline
    ws = p.staging.workspace.slug
    assert (await p.staging.post("/batches/found/upload/image", files={"a.jpg": ("a.jpg", jpeg(1))},
                                 fileName="a.jpg")).status_code == 200
    assert (await p.put_workflow("count-cars", detect_workflow())).status_code == 200
    assert (await p.put_workflow("plain_copy", noop_workflow())).status_code == 200
    made = [("night-1", "count-cars"), ("night-2", "count-cars"), ("day-1", "plain_copy"), ("day-2", "count-cars")]
    for job_id, workflow in made:
        resp = await p.jobs.post(p.jobs_path(f"/jobs/{job_id}"), params={"api_key": p.staging.key,
                                                                         "name": f"Run {job_id.upper()}"},
                                 json=job_body(ws, "found", workflow))
        assert resp.status_code == 200, resp.text
    for job_id, _ in made:
        assert (await p.wait_job(job_id))["state"] == "succeeded"

    assert await _ids(p, "night") == ["night-2", "night-1"]  # newest first
    assert await _ids(p, "NIGHT", page_size=1) == ["night-2", "night-1"]  # any case, one per page
    assert await _ids(p, "run day") == ["day-2", "day-1"]  # the name
    assert await _ids(p, "cars") == ["day-2", "night-2", "night-1"]  # the workflow id
    assert await _ids(p, "plain_") == ["day-1"] and await _ids(p, "_") == ["day-1"]  # _ is a character, not a wildcard
    assert await _ids(p, "%") == [] and await _ids(p, "nothing like it") == []
    assert len(await _ids(p, "succeeded")) == 4  # the state
    too_long = await p.jobs_get("/jobs", search="x" * 201)
    assert too_long.status_code == 400 and "1 to 200" in too_long.json()["message"]
