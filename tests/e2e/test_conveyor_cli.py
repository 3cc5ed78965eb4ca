"""The ``conveyor`` CLI's API commands against a running deployment, as a user would type them, and the
Python client they are built on, as a user's script would call it."""

import json
from pathlib import Path

import pytest

from conveyor_client.client import ConveyorClient, Staged
from tests.fixtures.cli import conveyor
from tests.fixtures.deployment import Deployment
from tests.fixtures.media import jpeg, photo
from tests.fixtures.workflows import detect_workflow


@pytest.fixture(scope="module")
def cli_env(deployment: Deployment) -> dict[str, str]:
    return {**deployment.env, "API_BASE_URL": deployment.base_url, "CONVEYOR_API_KEY": deployment.api_key}


def run(env: dict[str, str], home: Path, *args: str) -> str:
    result = conveyor(*args, home=home, env=env)
    assert result.returncode == 0, f"conveyor {' '.join(args)}:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def test_stage_process_follow_and_export_from_the_terminal(cli_env: dict[str, str], tmp_path: Path) -> None:
    few, many = tmp_path / "few", tmp_path / "many"
    few.mkdir()
    many.mkdir()
    (few / "bus.jpg").write_bytes(photo("bus.jpg"))
    (few / "zidane.jpg").write_bytes(photo("zidane.jpg"))
    for i in range(40):
        (many / f"m{i:02d}.jpg").write_bytes(jpeg(i))
    run(cli_env, tmp_path, "data-staging", "create-batch-of-images", "-b", "term-few", "--images-dir", str(few))
    run(cli_env, tmp_path, "data-staging", "create-batch-of-images", "-b", "term-many", "--images-dir", str(many))
    details = json.loads(run(cli_env, tmp_path, "data-staging", "show-batch-details", "-b", "term-few", "--json"))
    assert details["count"] == 2 and details["batchType"] == "simple-batch"
    shards = json.loads(run(cli_env, tmp_path, "data-staging", "list-ingest-details", "-b", "term-many", "--json"))
    assert len(shards) == 1  # 40 images travelled as one tar
    assert "term-few" in run(cli_env, tmp_path, "data-staging", "list-batches")

    spec = tmp_path / "wf.json"
    spec.write_text(json.dumps({"specification": detect_workflow()}))
    run(cli_env, tmp_path, "workflows", "put", "detect", "--file", str(spec))
    assert "detect" in run(cli_env, tmp_path, "workflows", "list")
    models = json.loads(run(cli_env, tmp_path, "models", "list", "--json"))
    assert any(m["modelId"] == "yolov4-tiny-coco" for m in models)

    out = run(cli_env, tmp_path, "batch-processing", "process-images-with-workflow", "-b", "term-few", "-w", "detect",
              "-j", "term-job", "--aggregation-format", "csv", "--watch")
    assert "job term-job succeeded" in out
    shown = json.loads(run(cli_env, tmp_path, "batch-processing", "show-job-details", "-j", "term-job", "--json"))
    assert shown["job"]["state"] == "succeeded" and [s["processingStageId"] for s in shown["stages"]] == [
        "processing", "export"]
    assert "term-job" in run(cli_env, tmp_path, "batch-processing", "list-jobs")
    found = json.loads(run(cli_env, tmp_path, "batch-processing", "list-jobs", "--search", "TERM-J", "--json"))
    assert [j["jobId"] for j in found] == ["term-job"]
    assert json.loads(run(cli_env, tmp_path, "batch-processing", "list-jobs", "--search", "no-such", "--json")) == []
    estimate = json.loads(run(cli_env, tmp_path, "batch-processing", "estimate", "-b", "term-many", "-w", "detect",
                              "--json"))
    assert (estimate["files"], estimate["tasks"], estimate["sample"]["files"]) == (40, 10, 30)  # 4 a task
    assert estimate["machineHours"]["value"] > 0 and estimate["failureRate"]["value"] == 0
    table = run(cli_env, tmp_path, "batch-processing", "estimate", "-b", "term-few", "-w", "detect")
    assert "2 files in 1 tasks" in table and "machine-hours" in table and "recommended" in table
    target = tmp_path / "export"
    run(cli_env, tmp_path, "data-staging", "export-batch", "-b", "term-job-export", "-t", str(target))
    (results,) = list(target.rglob("results-*.csv"))
    assert len(results.read_text().strip().splitlines()) == 3  # header + 2 images
    logs = tmp_path / "logs.jsonl"
    run(cli_env, tmp_path, "batch-processing", "fetch-logs", "-j", "term-job", "-o", str(logs))
    assert "job-created" in logs.read_text()


def test_errors_are_one_clear_line(cli_env: dict[str, str], tmp_path: Path) -> None:
    missing = conveyor("batch-processing", "abort-job", "-j", "nope", home=tmp_path, env=cli_env)
    assert missing.returncode == 1 and "job 'nope' does not exist" in missing.stderr
    assert "Traceback" not in missing.stderr
    bad_key = conveyor("data-staging", "list-batches", home=tmp_path, env={**cli_env, "CONVEYOR_API_KEY": "cvr_x"})
    assert bad_key.returncode == 1 and "invalid or revoked API key" in bad_key.stderr
    down = conveyor("data-staging", "list-batches", home=tmp_path,
                    env={**cli_env, "API_BASE_URL": "http://127.0.0.1:9"})
    assert down.returncode == 1 and "cannot reach" in down.stderr


def test_per_image_metadata_from_the_terminal(cli_env: dict[str, str], tmp_path: Path) -> None:
    photos = tmp_path / "meta"
    photos.mkdir()
    (photos / "loose.jpg").write_bytes(photo("bus.jpg"))
    (photos / "strict.jpg").write_bytes(photo("bus.jpg"))
    run(cli_env, tmp_path, "data-staging", "create-batch-of-images", "-b", "term-meta", "--images-dir", str(photos))
    records = tmp_path / "meta.jsonl"
    records.write_text(json.dumps({"fileName": "loose.jpg", "metadata": {"conf": 0.25}}) + "\n"
                       + json.dumps({"fileName": "strict.jpg", "metadata": {"conf": 0.999}}) + "\n")
    out = run(cli_env, tmp_path, "data-staging", "upload-metadata", "-b", "term-meta", "-pn", "meta",
              "-f", str(records))
    assert "metadata of 2 images" in out
    spec = tmp_path / "wf.json"
    spec.write_text(json.dumps({"specification": detect_workflow()}))
    run(cli_env, tmp_path, "workflows", "put", "detect-meta", "--file", str(spec))
    out = run(cli_env, tmp_path, "batch-processing", "process-images-with-workflow", "-b", "term-meta", "-w",
              "detect-meta", "-j", "term-meta-job", "--images-metadata-part-name", "meta", "--metadata-mapping",
              "confidence=conf", "--watch")
    assert "job term-meta-job succeeded" in out
    target = tmp_path / "meta-export"
    run(cli_env, tmp_path, "data-staging", "export-batch", "-b", "term-meta-job-export", "-t", str(target))
    rows = {r["image"]: r for p in target.rglob("results-*.jsonl") for r in map(json.loads, p.read_text().splitlines())}
    assert rows["loose.jpg"]["count"] >= 3 and rows["strict.jpg"]["count"] == 0


def test_the_webhook_secret_is_shown_and_rotated(cli_env: dict[str, str], tmp_path: Path) -> None:
    shown = json.loads(run(cli_env, tmp_path, "webhooks", "secret", "--json"))
    assert shown["secret"].startswith("whsec_") and shown["previousSecretValidUntil"] is None
    rotated = json.loads(run(cli_env, tmp_path, "webhooks", "secret", "--rotate", "--json"))
    assert rotated["secret"] != shown["secret"] and rotated["previousSecretValidUntil"]
    again = json.loads(run(cli_env, tmp_path, "webhooks", "secret", "--json"))
    assert again["secret"] == rotated["secret"]  # what receivers verify with from now on


def test_the_python_client_stages_a_folder_runs_a_job_follows_it_and_reads_every_row(deployment: Deployment,
                                                                                     tmp_path: Path) -> None:
    folder = tmp_path / "photos"
    (folder / "more").mkdir(parents=True)
    (folder / "bus.jpg").write_bytes(photo("bus.jpg"))
    (folder / "zidane.jpg").write_bytes(photo("zidane.jpg"))
    for i in range(3):
        (folder / "more" / f"n{i}.jpg").write_bytes(jpeg(i))
    (folder / "more" / "bad.jpg").write_bytes(b"not an image")
    (folder / "notes.txt").write_text("not staged: not an image file name")
    with ConveyorClient(deployment.base_url, deployment.api_key) as conveyor:
        # 6 images in archives of 4: one full archive and one partial, both waited for
        staged = conveyor.stage_folder("client-photos", folder, per_archive=4)
        assert staged == Staged("client-photos", sent=6, indexed=5, failed=1)
        conveyor.put_workflow("client-detect", detect_workflow())
        conveyor.start_job("client-job", "client-photos", "client-detect", parameters={"confidence": 0.3})
        updates = list(conveyor.job_updates("client-job"))
        assert updates[-1]["isTerminal"] and updates[-1]["state"] == "succeeded", updates[-1]
        assert conveyor.follow("client-job")["state"] == "succeeded"  # an ended job: its one last event
        rows = conveyor.download_results("client-job", tmp_path / "out")
    assert sorted(r["image"] for r in rows) == ["bus.jpg", "n0.jpg", "n1.jpg", "n2.jpg", "zidane.jpg"]
    bus = next(r for r in rows if r["image"] == "bus.jpg")
    assert "bus" in {d["class"] for d in bus["predictions"]["predictions"]}
