"""A job is planned once for its tasks, not at each dispatch round (a job of a thousand tasks dispatched a
few at a time once re-planned its workflow and looked up its models for every round)."""

from typing import Any

import pytest

from scheduler_svc import service
from tests.fixtures.media import jpeg
from tests.fixtures.pipeline import Pipeline, job_body
from tests.fixtures.workflows import detect_workflow


async def test_five_dispatch_rounds_of_a_job_use_one_plan(
        pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch) -> None:
    p = pipeline
    for i in range(10):  # five tasks of two images, one dispatched at a time
        assert (await p.staging.post("/batches/plans/upload/image", files={f"{i}.jpg": (f"{i}.jpg", jpeg(i))},
                                     fileName=f"{i}.jpg")).status_code == 200
    assert (await p.put_workflow("detect", detect_workflow())).status_code == 200
    plans: list[str] = []
    real = service.plan_workflow

    def counted(definition: Any, backend: str) -> Any:
        plans.append(backend)
        return real(definition, backend)

    monkeypatch.setattr(service, "plan_workflow", counted)
    body = job_body(p.staging.workspace.slug, "plans", "detect", maxParallelTasks=1)
    assert (await p.jobs_post("/jobs/planned", json=body)).status_code == 200
    job = await p.wait_job("planned")
    assert job["state"] == "succeeded"
    tasks = (await p.jobs_get("/jobs/planned/stages/processing/tasks")).json()["tasks"]
    assert len(tasks) == 5 and plans == ["builtin"]
