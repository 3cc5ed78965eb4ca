"""Keys with least privilege, made, listed and revoked through the API by an admin key of the workspace."""

from tests.fixtures.pipeline import Pipeline, job_body


async def test_a_read_key_reads_but_starts_nothing_and_a_revoked_key_opens_nothing(pipeline: Pipeline) -> None:
    p = pipeline
    ws = p.staging.workspace.slug
    admin = {"api_key": p.staging.key}
    bad = await p.jobs.post(f"/{ws}/api-keys", params=admin, json={"scope": "owner"})
    assert bad.status_code == 400 and "read, trigger, admin" in bad.json()["message"]
    made = (await p.jobs.post(f"/{ws}/api-keys", params=admin, json={"scope": "read", "label": "dashboards"})).json()
    read = {"api_key": made["key"]}
    assert made["scope"] == "read" and made["key"].startswith(made["prefix"]) and made["lastUsedAt"] is None

    listed = await p.jobs.get(f"/batch-processing/v1/external/{ws}/jobs", params=read)
    assert listed.status_code == 200
    refused = await p.jobs.post(f"/batch-processing/v1/external/{ws}/jobs/not-mine", params=read,
                                json=job_body(ws, "none", "none"))
    assert refused.status_code == 403
    assert refused.json()["message"] == (
        "this API key's scope is 'read'; POST /batch-processing/v1/external/{workspace}/jobs/{job_id} needs "
        "'trigger' (make one with conveyor workspace key create --scope trigger)")
    assert (await p.jobs.get(f"/{ws}/api-keys", params=read)).status_code == 403  # keys are the admin's

    keys = {k["label"]: k for k in (await p.jobs.get(f"/{ws}/api-keys", params=admin)).json()["keys"]}
    assert keys["dashboards"]["scope"] == "read" and keys["dashboards"]["lastUsedAt"] is not None
    assert made["key"] not in str(keys)
    gone = await p.jobs.delete(f"/{ws}/api-keys/{keys['dashboards']['keyId']}", params=admin)
    assert gone.json() == {"status": "ok", "revoked": keys["dashboards"]["keyId"]}
    assert (await p.jobs.delete(f"/{ws}/api-keys/{keys['dashboards']['keyId']}", params=admin)).status_code == 404
    assert (await p.jobs.get(f"/batch-processing/v1/external/{ws}/jobs", params=read)).status_code == 401
