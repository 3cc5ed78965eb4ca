"""Every service process serves Prometheus ``/metrics`` that move with the work, and logs JSON lines with ids."""

import json
import time
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.fixtures.deployment import Deployment
from tests.fixtures.hooks import HOOK_PORT, Hooks
from tests.fixtures.media import photo
from tests.fixtures.workflows import detect_workflow

pytestmark = pytest.mark.parametrize(
    "deployment", [{"CONVEYOR_WEBHOOK_ALLOWED_HOSTS": f'["127.0.0.1:{HOOK_PORT}"]'}], indirect=True)

SERVICE_PORTS = {"ingest": 9101, "scheduler": 9102, "worker": 9103, "export": 9104, "notifier": 9105, "gateway": 9000}


def scrape(port: int, home: Path) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """The metrics of one process, read with the installation's token (``conveyor up`` makes one)."""
    token = (home / "metrics_token").read_text().strip()
    resp = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10, headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/plain")
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(resp.text) for s in family.samples}


def value(samples: dict, name: str, **labels: str) -> float:
    return sum(v for (n, ls), v in samples.items() if n == name and set(labels.items()) <= set(ls))


def test_metrics_are_scraped_from_every_service_and_logs_carry_job_ids(deployment: Deployment,
                                                                      hooks: Hooks) -> None:
    ws, key, base = deployment.workspace, deployment.api_key, deployment.base_url
    with httpx.Client(base_url=base, params={"api_key": key}, timeout=30) as api:
        for name in ("bus.jpg", "zidane.jpg"):
            resp = api.post(f"/data-staging/v1/external/{ws}/batches/metrics-in/upload/image",
                            params={"fileName": name}, files={name: (name, photo(name))})
            assert resp.status_code == 200, resp.text
        assert api.put(f"/{ws}/workflows/metrics-wf", json={"specification": detect_workflow()}).status_code == 200
        body = {"type": "simple-image-processing-v1",
                "jobInput": {"type": "staging-batch-input-v1", "batchId": "metrics-in"},
                "computeConfiguration": {"type": "compute-configuration-v2", "machineType": "cpu"},
                "processingSpecification": {"type": "workflows-processing-specification-v1", "workspace": ws,
                                            "workflowId": "metrics-wf"},
                "notificationsURL": f"{hooks.url}/metrics-job"}
        assert api.post(f"/batch-processing/v1/external/{ws}/jobs/metrics-job", json=body).status_code == 200
        deadline = time.monotonic() + 120
        while (state := api.get(f"/batch-processing/v1/external/{ws}/jobs/metrics-job").json()["job"]["state"]) \
                not in ("succeeded", "failed") and time.monotonic() < deadline:
            time.sleep(0.5)
        assert state == "succeeded"

    home = deployment.home
    assert hooks.wait("/metrics-job", 1)  # the job's webhook, which the notifier's histogram must count
    ingest, worker, export = scrape(9101, home), scrape(9103, home), scrape(9104, home)
    assert value(ingest, "conveyor_files_ingested_total", outcome="stored") >= 2
    assert value(ingest, "conveyor_http_request_duration_seconds_count", route=(
        "/data-staging/v1/external/{workspace}/batches/{batch_id}/upload/image"), status="200") >= 2
    assert value(worker, "conveyor_tasks_total", machine_type="cpu", outcome="succeeded") >= 1
    assert value(worker, "conveyor_files_processed_total", outcome="processed") >= 2
    assert value(worker, "conveyor_file_processing_seconds_count") >= 2
    assert value(export, "conveyor_export_archives_total") >= 1
    deadline = time.monotonic() + 15  # gauges are sampled every few seconds
    while value(scheduler := scrape(9102, home), "conveyor_jobs", state="succeeded") < 1 \
            and time.monotonic() < deadline:
        time.sleep(0.5)
    assert value(scheduler, "conveyor_jobs", state="succeeded") >= 1
    assert ("conveyor_task_queue_depth", (("machine_type", "cpu"),)) in scheduler
    # every process exports the histogram at 0 from its start: only a delivered webhook moves it (observed once
    # the receiver has answered, so a moment after the hook arrived)
    deadline = time.monotonic() + 10
    while value(scrape(9105, home), "conveyor_webhook_attempt_seconds_count") < 1 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert value(scrape(9105, home), "conveyor_webhook_attempt_seconds_count") >= 1
    assert value(scrape(9000, home), "conveyor_http_request_duration_seconds_count", service="gateway") >= 4

    # the counts span every workspace: without the token, nobody reads them
    for port in SERVICE_PORTS.values():
        assert httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).status_code == 401

    lines = [json.loads(line) for line in (deployment.home / "logs" / "worker.log").read_text().splitlines()
             if line.startswith("{")]
    mine = [e for e in lines if e.get("job_id") == "metrics-job"]
    assert mine and all(e["service"] == "worker" and e["task_id"] and e["workspace_id"] for e in mine)
    assert any("processed" in e["message"] for e in mine)
