"""An outside team's consumers of Conveyor's public events: the README's example (plain aiokafka, no Conveyor
code) follows a real job from its start to its end, and a second one in confluent-kafka checks every message of it
against the published JSON Schemas, headers, key and correlation id."""

import asyncio
import json
import sys

from shared.config import REPO_ROOT, ServiceSettings
from tests.fixtures.kafka import read_topic
from tests.fixtures.media import jpeg, photo
from tests.fixtures.pipeline import Pipeline, job_body
from tests.fixtures.workflows import detect_workflow

EXAMPLE = REPO_ROOT / "examples" / "consume_job_events.py"
VALIDATING = REPO_ROOT / "examples" / "validate_job_events.py"  # confluent-kafka, against the published schemas
SCHEMAS = REPO_ROOT / "shared" / "events" / "schema" / "events"


async def test_the_example_consumer_follows_a_job_through_its_public_events(pipeline: Pipeline,
                                                                            settings: ServiceSettings) -> None:
    p = pipeline
    for name, data in {"bus.jpg": photo("bus.jpg"), "zidane.jpg": photo("zidane.jpg"), "n.jpg": jpeg(3)}.items():
        resp = await p.staging.post("/batches/followed/upload/image", files={name: (name, data)}, fileName=name)
        assert resp.status_code == 200, resp.text
    assert (await p.put_workflow("detect", detect_workflow())).status_code == 200
    assert (await p.jobs_post("/jobs/followed-job", json=job_body(p.staging.workspace.slug, "followed", "detect"))
            ).status_code == 200
    consumer = await asyncio.create_subprocess_exec(
        sys.executable, "-I", str(EXAMPLE), "--bootstrap", settings.kafka.bootstrap_servers,
        "--prefix", settings.kafka.topic_prefix, "--job", "followed-job",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)  # -I: only aiokafka, not this checkout
    validating = await asyncio.create_subprocess_exec(
        sys.executable, "-I", str(VALIDATING), "--bootstrap", settings.kafka.bootstrap_servers,
        "--prefix", settings.kafka.topic_prefix, "--schemas", str(SCHEMAS),
        "--workspace-id", p.staging.workspace.id, "--job", "followed-job",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(consumer.communicate(), timeout=120)
    assert consumer.returncode == 0, err.decode()[-2000:]
    checked, err = await asyncio.wait_for(validating.communicate(), timeout=120)
    assert validating.returncode == 0, (checked.decode()[-2000:], err.decode()[-2000:])
    valid = [json.loads(line) for line in checked.decode().splitlines()]
    # every event of the job, in the other library: each valid against its schema, keyed <workspaceId>/<job>,
    # correlated by the job's id
    assert {e["type"] for e in valid} == {"job.state-changed@v1", "job.processing-completed@v1",
                                          "job.export-completed@v1", "stage.complete@v1", "job.progress@v1"}
    # three states, two stage ends (each with its deprecated stage.complete twin), two tasks' progress
    assert len(valid) == 3 + 2 * 2 + 2 and {e["correlation_id"] for e in valid} == {"followed-job"}
    assert {e["key"] for e in valid} == {f"{p.staging.workspace.id}/followed-job"}
    events = [json.loads(line) for line in out.decode().splitlines()]
    job = await p.wait_job("followed-job")
    assert job["state"] == "succeeded"
    states = [e["state"] for e in events if e["type"] == "job.state-changed@v1"]
    assert states == ["processing", "exporting", "succeeded"], events
    stages = [(e["type"], e["results_batch"], e["export_batch"]) for e in events if e["type"].startswith("job.")
              and e["type"] != "job.state-changed@v1"]
    assert stages == [("job.processing-completed@v1", "followed-job-processing", "followed-job-export"),
                      ("job.export-completed@v1", None, "followed-job-export")], events
    assert all(e["job_id"] == "followed-job" and e["source"].startswith("/conveyor/") and e["time"] for e in events)
    assert {e["source"] for e in events} == {"/conveyor/scheduler", "/conveyor/export"}  # the producers
    assert len({e["id"] for e in events}) == len(events)
    # jobs.progress: one event per task of the processing stage (3 images, 2 per task)
    records = await read_topic(settings.kafka.bootstrap_servers, f"{settings.kafka.topic_prefix}.jobs.progress.v1", 2)
    progress = sorted((json.loads(r.value) for r in records), key=lambda e: e["tasks_done"])
    assert [(e["tasks_done"], e["tasks_total"], e["files_total"]) for e in progress] == [(1, 2, 3), (2, 2, 3)]
    assert progress[-1]["progress"] == 1.0 and progress[-1]["files_processed"] == 3
    assert 0 < progress[0]["progress"] < 1 and all(e["job_id"] == "followed-job" for e in progress)
