"""Two worker and two ingest processes (``CONVEYOR_WORKER_PROCESSES=2``, ``CONVEYOR_INGEST_PROCESSES=2``):
the workers share one job's tasks through the task topic's partitions, and nothing is lost or done twice."""

import time
from pathlib import Path

import httpx

from tests.e2e.test_metrics import scrape, value
from tests.fixtures.cli import conveyor
from tests.fixtures.media import jpeg
from tests.fixtures.workflows import detect_workflow

ENV = {"CONVEYOR_SERVICE_PORT_BASE": "9600", "CONVEYOR_GATEWAY_PORT": "9500",
       "CONVEYOR_PUBLIC_URL": "http://127.0.0.1:9500", "CONVEYOR_WORKER_PROCESSES": "2",
       "CONVEYOR_INGEST_PROCESSES": "2", "KAFKA_TOPIC_PREFIX": "multi",
       "INGEST_EXPIRY_SWEEP_INTERVAL_S": "3600", "SCHEDULER_IMAGES_PER_TASK": "2",
       "KAFKA_SESSION_TIMEOUT_MS": "3000", "KAFKA_HEARTBEAT_INTERVAL_MS": "500"}
FILES = 24


def test_two_worker_processes_share_a_job_and_lose_nothing(tmp_path: Path, stack_env: dict[str, str]) -> None:
    up = conveyor("up", "--detach", "--workspace", "multi", home=tmp_path, env=ENV)
    try:
        assert up.returncode == 0, up.stderr
        for port in (9611, 9613):  # ingest-2 and worker-2: 10 ports after their first processes
            assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=10).status_code == 200
        key = (tmp_path / "api_key").read_text().strip()
        with httpx.Client(base_url=ENV["CONVEYOR_PUBLIC_URL"], params={"api_key": key}, timeout=30) as api:
            for i in range(FILES):
                name = f"m{i:02d}.jpg"
                resp = api.post("/data-staging/v1/external/multi/batches/multi-in/upload/image",
                                params={"fileName": name}, files={name: (name, jpeg(i))})
                assert resp.status_code == 200, resp.text
            assert api.put("/multi/workflows/multi-wf", json={"specification": detect_workflow()}).status_code == 200
            body = {"type": "simple-image-processing-v1",
                    "jobInput": {"type": "staging-batch-input-v1", "batchId": "multi-in"},
                    "computeConfiguration": {"type": "compute-configuration-v2", "machineType": "cpu"},
                    "processingSpecification": {"type": "workflows-processing-specification-v1",
                                                "workspace": "multi", "workflowId": "multi-wf"}}
            assert api.post("/batch-processing/v1/external/multi/jobs/multi-job", json=body).status_code == 200
            deadline = time.monotonic() + 180
            while (job := api.get("/batch-processing/v1/external/multi/jobs/multi-job").json()["job"])["state"] \
                    not in ("succeeded", "failed") and time.monotonic() < deadline:
                time.sleep(0.5)
            assert job["state"] == "succeeded", job

        per_worker = [value(scrape(port, tmp_path), "conveyor_files_processed_total", outcome="processed")
                      for port in (9603, 9613)]
        assert sum(per_worker) == FILES  # every file once: none lost, none done by both
        assert all(n > 0 for n in per_worker), f"one worker did everything: {per_worker}"
    finally:
        down = conveyor("down", "--keep-stack", home=tmp_path, env=ENV)
    assert down.returncode == 0
