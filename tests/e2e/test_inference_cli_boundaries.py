"""The real inference-cli across every size boundary of the code: reference shards (1,000), tar shards of the
client (256 images), archives of an export, pages of listings. Counts are exact, names are checked one by one."""

from __future__ import annotations

import base64
import io
import json
import os
import subprocess
import tarfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
import cv2
import httpx
import numpy as np
import pytest

from conveyor_client.client import ConveyorClient, Staged
from tests.fixtures.cli import conveyor
from tests.fixtures.deployment import Deployment
from tests.fixtures.hooks import HOOK_PORT, Hooks
from tests.fixtures.media import jpeg, mp4, photo
from tests.fixtures.rfcli import api_get, rf, wait_count
from tests.fixtures.workflows import detect_workflow
from tests.prepare import CLI_VENV

# archives of about two tasks' results and pictures: a 40-image job exports into several of them
pytestmark = pytest.mark.parametrize("deployment", [{
    "EXPORT_MAX_ARCHIVE_BYTES": "20000", "CONVEYOR_WEBHOOK_ALLOWED_HOSTS": f'["127.0.0.1:{HOOK_PORT}"]',
    "SCHEDULER_UNSERVED_MACHINE_TYPE": "cpu"}], indirect=True)

STAGING = "/data-staging/v1/external/e2e"
JOBS = "/batch-processing/v1/external/e2e"


def _ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout


def _names(dep: Deployment, batch: str, part: str | None = None) -> list[str]:
    names, token = [], None
    while True:
        page = api_get(dep, f"{STAGING}/batches/{batch}/list", **({"nextPageToken": token} if token else {}),
                       **({"partName": part} if part else {})).json()
        names += [f["fileName"] for f in page["filesMetadata"]]
        token = page.get("nextPageToken")
        if not token:
            return names


def _s3(env: dict[str, str]):
    return boto3.client("s3", endpoint_url=env["S3_ENDPOINT_URL"], aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
                        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"], region_name="us-east-1")


def _put_workflow(dep: Deployment, workflow_id: str, spec: dict) -> None:
    resp = httpx.put(f"{dep.base_url}/{dep.workspace}/workflows/{workflow_id}", params={"api_key": dep.api_key},
                     json={"specification": spec})
    assert resp.status_code == 200, resp.text


def _wait_job(dep: Deployment, job_id: str, timeout: float = 240) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        job = api_get(dep, f"{JOBS}/jobs/{job_id}").json()["job"]
        if job["isTerminal"] or time.monotonic() > deadline:
            return job
        time.sleep(0.5)


@pytest.fixture(scope="module")
def served(deployment: Deployment) -> Deployment:
    """The deployment, with the workflows of this module saved."""
    _put_workflow(deployment, "detect-vis", detect_workflow(visualise=True))
    _put_workflow(deployment, "detect", detect_workflow())
    return deployment


def test_a_references_file_past_one_shard_stages_every_reference(inference_cli: Path, served: Deployment,
                                                                   tmp_path: Path, stack_env: dict[str, str]) -> None:
    s3 = _s3(stack_env)
    s3.create_bucket(Bucket="refs-e2e")
    for i in range(5):
        s3.put_object(Bucket="refs-e2e", Key=f"src-{i}.jpg", Body=jpeg(i, size=(32, 32)))
    urls = [s3.generate_presigned_url("get_object", Params={"Bucket": "refs-e2e", "Key": f"src-{i}.jpg"})
            for i in range(5)]
    refs = tmp_path / "refs.jsonl"
    refs.write_text("".join(json.dumps({"name": f"ref-{i:04d}.jpg", "url": urls[i % 5]}) + "\n" for i in range(1500)))
    _ok(rf(inference_cli, served, "data-staging", "create-batch-of-images", "--batch-id", "refs-1500",
           "--data-source", "references-file", "--references", str(refs), "--ingest-id", "refs-1500-ingest"))
    assert wait_count(served, "refs-1500", 1500, timeout=180) == 1500
    assert sorted(_names(served, "refs-1500")) == [f"ref-{i:04d}.jpg" for i in range(1500)]
    shards = api_get(served, f"{STAGING}/batches/refs-1500/shards").json()["shards"]
    assert sorted(s["shardObjectsCount"] for s in shards) == [500, 1000]  # 1,000 references per shard
    assert {s["statusMetadata"]["ingestId"] for s in shards} == {"refs-1500-ingest"}


def test_cloud_storage_past_one_shard_stages_every_object(inference_cli: Path, served: Deployment,
                                                          stack_env: dict[str, str]) -> None:
    s3 = _s3(stack_env)
    s3.create_bucket(Bucket="cloud-e2e")
    body = jpeg(7, size=(32, 32))
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda i: s3.put_object(Bucket="cloud-e2e", Key=f"photos/c-{i:04d}.jpg", Body=body),
                      range(1100)))
    env = stack_env
    aws = {"AWS_ENDPOINT_URL": env["S3_ENDPOINT_URL"], "AWS_ACCESS_KEY_ID": env["AWS_ACCESS_KEY_ID"],
           "AWS_SECRET_ACCESS_KEY": env["AWS_SECRET_ACCESS_KEY"], "AWS_REGION": "us-east-1"}
    _ok(rf(inference_cli, served, "data-staging", "create-batch-of-images", "--batch-id", "cloud-1100",
           "--data-source", "cloud-storage", "--bucket-path", "s3://cloud-e2e/photos/*.jpg", env=aws))
    assert wait_count(served, "cloud-1100", 1100, timeout=180) == 1100
    assert sorted(_names(served, "cloud-1100")) == [f"c-{i:04d}.jpg" for i in range(1100)]


def test_a_folder_in_several_tar_shards_sends_one_ingest_status(inference_cli: Path, served: Deployment,
                                                                 hooks: Hooks, tmp_path: Path) -> None:
    folder = tmp_path / "many"
    folder.mkdir()
    for i in range(520):  # three tars of the client's 256
        (folder / f"img-{i:04d}.jpg").write_bytes(jpeg(1000 + i, size=(24, 24)))
    _ok(rf(inference_cli, served, "data-staging", "create-batch-of-images", "--batch-id", "tars-520",
           "--images-dir", str(folder), "--ingest-id", "tars-520-ingest", "--notifications-url", f"{hooks.url}/tars"))
    def statuses() -> list[dict]:
        return [h for h in hooks.on("/tars") if h["notification"]["type"] == "ingest-status-notification-v1"]

    deadline = time.monotonic() + 90  # the ingest settles INGEST_INGEST_SETTLE_S (10 s) after its last tar
    while not statuses() and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(3.0)  # a second one would have arrived by now
    status = statuses()
    assert len(status) == 1, status
    (note,) = status
    assert note["ingest_id"] == "tars-520-ingest" and note["notification"]["success"] is True
    assert note["notification"]["ingested_files_count"] == 520 and note["notification"]["shards_count"] == 3
    assert wait_count(served, "tars-520", 520) == 520  # the webhook came after every file was staged
    files = [h for h in hooks.on("/tars") if h["notification"]["type"] == "ingest-files-status-notification-v1"]
    assert sorted(n for h in files for n in h["notification"]["ingested_files"]) == sorted(
        p.name for p in folder.glob("*.jpg"))
    details = tmp_path / "shards.jsonl"
    _ok(rf(inference_cli, served, "data-staging", "list-ingest-details", "--batch-id", "tars-520",
           "--output-file", str(details)))
    rows = [json.loads(line) for line in details.read_text().splitlines()]
    assert len(rows) == 3 and {r["status_metadata"]["ingestId"] for r in rows} == {"tars-520-ingest"}


def test_a_job_with_pictures_exports_every_row_once_across_archives(inference_cli: Path, served: Deployment,
                                                                    tmp_path: Path) -> None:
    folder = tmp_path / "photos"
    folder.mkdir()
    names = [f"p-{i:02d}.jpg" for i in range(36)] + ["same.jpg", "same.png"]
    for i, name in enumerate(names[:-1]):
        (folder / name).write_bytes(jpeg(300 + i, size=(64, 48)))
    (folder / "same.png").write_bytes(cv2.imencode(".png", np.full((48, 64, 3), 200, np.uint8))[1].tobytes())
    _ok(rf(inference_cli, served, "data-staging", "create-batch-of-images", "--batch-id", "pics",
           "--images-dir", str(folder)))
    assert wait_count(served, "pics", len(names)) == len(names)
    _ok(rf(inference_cli, served, "batch-processing", "process-images-with-workflow", "--batch-id", "pics",
           "--workflow-id", "detect-vis", "--job-id", "pics-job", "--save-image-outputs",
           "--image-outputs-to-save", "visualization", "--workers-per-machine", "2"))
    job = _wait_job(served, "pics-job")
    assert job["state"] == "succeeded", job
    archives = _names(served, "pics-job-export", "archives")
    assert len(archives) >= 3, archives

    for attempt in ("first", "second"):  # exported twice: the CLI's export log must not hide or double rows
        target = tmp_path / "export"
        _ok(rf(inference_cli, served, "data-staging", "export-batch", "--batch-id", "pics-job-export",
               "--target-dir", str(target)))
        results = sorted(target.rglob("results-*.jsonl"))
        assert len(results) == len(archives), (attempt, results)
        rows = [json.loads(line) for p in results for line in p.read_text().splitlines()]
        assert Counter(r["image"] for r in rows) == Counter(names), attempt
        pictures = {p.name: p for p in target.rglob("*.jpg.jpg")} | {p.name: p for p in target.rglob("*.png.jpg")}
        assert {r["image"]: r["visualization"] for r in rows} == {n: f"visualization__{n}.jpg" for n in names}
        assert set(pictures) == {f"visualization__{n}.jpg" for n in names}
    # a.jpg and a.png keep pictures of their own
    assert pictures["visualization__same.jpg.jpg"].read_bytes() != pictures["visualization__same.png.jpg"].read_bytes()

    processing = tmp_path / "processing"
    _ok(rf(inference_cli, served, "data-staging", "export-batch", "--batch-id", "pics-job-processing",
           "--target-dir", str(processing)))
    assert sorted(p.name for p in (processing / "images").iterdir()) == sorted(f"visualization__{n}.jpg" for n in names)
    rows = [json.loads(line) for p in (processing / "results").iterdir() for line in p.read_text().splitlines()]
    assert sorted(r["image"] for r in rows) == sorted(names)

    urls = api_get(served, f"{STAGING}/batches/pics-job-export/export").json()
    assert len(urls["urls"]) == len(archives) and urls["nextPageToken"] is None


def test_a_job_on_a_batch_still_indexing_is_refused_and_then_runs_on_everything(inference_cli: Path,
                                                                              served: Deployment) -> None:
    # a signed upload link handed out and still valid: its tar may still bring files
    link = httpx.post(f"{served.base_url}{STAGING}/batches/pending/bulk-upload/image-files",
                      params={"api_key": served.api_key}).json()["signedURLDetails"]["uploadURL"]
    refused = rf(inference_cli, served, "batch-processing", "process-images-with-workflow", "--batch-id", "pending",
                 "--workflow-id", "detect", "--job-id", "pending-job")
    assert refused.returncode != 0 and "still being staged" in refused.stdout + refused.stderr
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for i in range(40):
            data = jpeg(500 + i, size=(24, 24))
            info = tarfile.TarInfo(f"late-{i:02d}.jpg")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    assert httpx.put(link, content=buf.getvalue()).status_code == 200
    assert wait_count(served, "pending", 40) == 40
    _ok(rf(inference_cli, served, "batch-processing", "process-images-with-workflow", "--batch-id", "pending",
           "--workflow-id", "detect", "--job-id", "pending-job"))
    job = _wait_job(served, "pending-job")
    assert job["state"] == "succeeded" and job["progress"] == 1.0, job


def test_a_gpu_job_on_a_cpu_only_deployment_runs_on_cpu_and_says_so(inference_cli: Path, served: Deployment,
                                                                   tmp_path: Path) -> None:
    assert wait_count(served, "pics", 38) == 38
    _ok(rf(inference_cli, served, "batch-processing", "process-images-with-workflow", "--batch-id", "pics",
           "--workflow-id", "detect", "--job-id", "gpu-job", "--machine-type", "gpu"))
    job = _wait_job(served, "gpu-job")
    assert job["state"] == "succeeded", job
    assert set(job["billedMachineHours"]) == {"cpu"}
    logs = tmp_path / "logs.jsonl"
    _ok(rf(inference_cli, served, "batch-processing", "fetch-logs", "--job-id", "gpu-job", "--output-file", str(logs)))
    fallback = [json.loads(line) for line in logs.read_text().splitlines() if "machine-type-fallback" in line]
    assert fallback and "no gpu worker" in fallback[0]["payload"]["reason"]


def test_output_batches_never_merge_into_a_users_batch(inference_cli: Path, served: Deployment,
                                                       tmp_path: Path) -> None:
    folder = tmp_path / "clash"
    folder.mkdir()
    (folder / "x.jpg").write_bytes(jpeg(1))
    _ok(rf(inference_cli, served, "data-staging", "create-batch-of-images", "--batch-id", "clash-export",
           "--images-dir", str(folder)))
    refused = rf(inference_cli, served, "batch-processing", "process-images-with-workflow", "--batch-id", "pics",
                 "--workflow-id", "detect", "--job-id", "clash")
    assert refused.returncode != 0 and "'clash-export' already exists" in refused.stdout + refused.stderr
    assert _names(served, "clash-export") == ["x.jpg"]


def test_formats_the_client_sends_are_staged(inference_cli: Path, served: Deployment, tmp_path: Path) -> None:
    images = tmp_path / "jp2"
    images.mkdir()
    (images / "a.jp2").write_bytes(cv2.imencode(".jp2", np.full((40, 50, 3), 90, np.uint8))[1].tobytes())
    (images / "b.jpg").write_bytes(jpeg(2))
    _ok(rf(inference_cli, served, "data-staging", "create-batch-of-images", "--batch-id", "jp2",
           "--images-dir", str(images)))
    assert sorted(_names(served, "jp2")) == ["a.jp2", "b.jpg"]

    videos = tmp_path / "videos"
    videos.mkdir()
    (videos / "a.mp4").write_bytes(mp4(frames=6))
    for ext, fourcc in ((".flv", "FLV1"), (".wmv", "WMV2")):
        writer = cv2.VideoWriter(str(videos / f"a{ext}"), cv2.VideoWriter.fourcc(*fourcc), 10, (64, 48))
        for i in range(6):
            writer.write(np.full((48, 64, 3), 40 * i, np.uint8))
        writer.release()
    ogg = ("import av, numpy as np, sys\n"
           "c = av.open(sys.argv[1], 'w', format='ogg'); s = c.add_stream('vp8', rate=10)\n"
           "s.width, s.height, s.pix_fmt = 64, 48, 'yuv420p'\n"
           "for i in range(6):\n"
           "    f = av.VideoFrame.from_ndarray(np.full((48, 64, 3), 40 * i, np.uint8), format='rgb24')\n"
           "    [c.mux(p) for p in s.encode(f)]\n"
           "[c.mux(p) for p in s.encode()]; c.close()\n")
    subprocess.run([str(CLI_VENV / "bin" / "python"), "-c", ogg, str(videos / "a.ogg")], check=True, timeout=60)
    _ok(rf(inference_cli, served, "data-staging", "create-batch-of-videos", "--batch-id", "formats",
           "--videos-dir", str(videos)))
    assert wait_count(served, "formats", 4) == 4
    assert sorted(_names(served, "formats")) == ["a.flv", "a.mp4", "a.ogg", "a.wmv"]
    _ok(rf(inference_cli, served, "batch-processing", "process-videos-with-workflow", "--batch-id", "formats",
           "--workflow-id", "detect", "--job-id", "formats-job"))
    job = _wait_job(served, "formats-job")
    assert job["state"] == "succeeded", job
    target = tmp_path / "formats-out"
    _ok(rf(inference_cli, served, "data-staging", "export-batch", "--batch-id", "formats-job-export",
           "--target-dir", str(target)))
    rows = [json.loads(line) for p in target.rglob("results-*.jsonl") for line in p.read_text().splitlines()]
    assert {r["video"] for r in rows} == {"a.flv", "a.mp4", "a.ogg", "a.wmv"}  # every format decoded


def test_a_simple_batch_grows_by_a_bulk_upload(inference_cli: Path, served: Deployment, tmp_path: Path) -> None:
    folder = tmp_path / "grow"
    folder.mkdir()
    for i in range(10):
        (folder / f"g-{i:02d}.jpg").write_bytes(jpeg(600 + i, size=(24, 24)))
    _ok(rf(inference_cli, served, "data-staging", "create-batch-of-images", "--batch-id", "grow",
           "--images-dir", str(folder)))
    assert wait_count(served, "grow", 10) == 10
    for i in range(10, 60):  # 50 more: past the client's 32 for single uploads, so it sends a tar
        (folder / f"g-{i:02d}.jpg").write_bytes(jpeg(600 + i, size=(24, 24)))
    _ok(rf(inference_cli, served, "data-staging", "create-batch-of-images", "--batch-id", "grow",
           "--images-dir", str(folder)))
    assert wait_count(served, "grow", 60) == 60
    assert sorted(_names(served, "grow")) == [f"g-{i:02d}.jpg" for i in range(60)]
    # the other way stays refused: a single upload into what is now a bulk batch
    single = httpx.post(f"{served.base_url}{STAGING}/batches/grow/upload/image", params={
        "api_key": served.api_key, "fileName": "late.jpg"}, files={"late.jpg": ("late.jpg", jpeg(1))})
    assert single.status_code == 409 and "single uploads cannot go into a bulk batch" in single.json()["message"]


def test_every_forged_or_foreign_page_token_is_a_json_400(served: Deployment) -> None:
    foreign = api_get(served, f"{STAGING}/batches/refs-1500/list", pageSize=10).json()["nextPageToken"]
    forged = base64.urlsafe_b64encode(b'{"x": 1}').decode().rstrip("=")
    routes = [f"{STAGING}/batches", f"{STAGING}/batches/refs-1500/list", f"{STAGING}/batches/refs-1500/shards",
              f"{STAGING}/batches/pics-job-export/export", f"{JOBS}/jobs", f"{JOBS}/jobs/pics-job/logs",
              f"{JOBS}/jobs/pics-job/stages/processing/tasks"]
    for route in routes:
        for token in (forged, "not-base64!", foreign):
            resp = api_get(served, route, nextPageToken=token)
            if route.endswith("/list") and token == foreign:
                continue  # its own token: valid
            assert resp.status_code == 400, (route, token, resp.text)
            assert resp.json()["error"] == "InvalidInput" and "nextPageToken" in resp.json()["message"]
    other_part = api_get(served, f"{STAGING}/batches/refs-1500/list", nextPageToken=foreign, partName="x")
    assert other_part.status_code == 400


def test_metadata_inputs_reserved_names_and_output_expiry_with_the_client(inference_cli: Path, served: Deployment,
                                                                          tmp_path: Path) -> None:
    """--images-metadata-part-name and --metadata-mapping take effect; an output named `image` keeps the input's
    name in its column; the outputs live seven days from the job, whatever the age of the input."""
    folder = tmp_path / "meta"
    folder.mkdir()
    for name in ("loose.jpg", "strict.jpg", "keyless.jpg"):
        (folder / name).write_bytes(photo("bus.jpg"))
    _ok(rf(inference_cli, served, "data-staging", "create-batch-of-images", "--batch-id", "meta-cli",
           "--images-dir", str(folder)))
    lines = [{"fileName": "loose.jpg", "metadata": {"conf": 0.25}},
             {"fileName": "strict.jpg", "metadata": {"conf": 0.999}}, {"fileName": "keyless.jpg", "metadata": {}}]
    stored = httpx.post(f"{served.base_url}{STAGING}/batches/meta-cli/upload/metadata", params={
        "api_key": served.api_key, "partName": "meta"}, content="".join(json.dumps(x) + "\n" for x in lines))
    assert stored.status_code == 200 and stored.json()["records"] == 3, stored.text
    spec = detect_workflow()
    spec["outputs"].append({"type": "JsonField", "name": "image", "selector": "$steps.count.output"})
    _put_workflow(served, "detect-image-out", spec)
    _ok(rf(inference_cli, served, "batch-processing", "process-images-with-workflow", "--batch-id", "meta-cli",
           "--workflow-id", "detect-image-out", "--job-id", "meta-cli-job", "--images-metadata-part-name", "meta",
           "--metadata-mapping", "confidence=conf"))
    job = _wait_job(served, "meta-cli-job")
    assert job["state"] == "succeeded", job
    target = tmp_path / "meta-out"
    _ok(rf(inference_cli, served, "data-staging", "export-batch", "--batch-id", "meta-cli-job-export",
           "--target-dir", str(target)))
    rows = {r["image"]: r for p in target.rglob("results-*.jsonl")
            for r in map(json.loads, p.read_text().splitlines())}
    assert set(rows) == {"loose.jpg", "strict.jpg"}  # keyless.jpg lacks the key: a failed file
    assert rows["loose.jpg"]["count"] >= 3 and rows["strict.jpg"]["count"] == 0
    assert rows["loose.jpg"]["image_output"] == rows["loose.jpg"]["count"]
    for batch in ("meta-cli-job-export", "meta-cli-job-processing"):
        expiry = api_get(served, f"{STAGING}/batches/{batch}").json()["batch"]["expiryDate"]
        left = datetime.fromisoformat(expiry) - datetime.now(UTC)
        assert timedelta(days=6, hours=23) < left <= timedelta(days=7)


def test_links_minted_with_a_published_secret_are_refused(served: Deployment) -> None:
    """`conveyor up` signs with a secret of its own installation: the old public default mints nothing."""
    from ingest_svc.signing import sign

    listed = api_get(served, f"{STAGING}/batches/pics-job-export/list").json()["filesMetadata"][0]
    assert httpx.get(listed["downloadURL"]).status_code == 200
    forged = sign("conveyor-dev-signing-secret", {"kind": "download", "k": "anything", "n": "x.tar.gz",
                                                  "ct": "application/gzip"}, 3600)
    refused = httpx.get(f"{served.base_url}/files/download/{forged}")
    assert refused.status_code == 403
    assert len((served.home / "signing_secret").read_text().strip()) >= 32


def test_unsupported_platform_features_answer_501_with_what_to_use(inference_cli: Path, served: Deployment) -> None:
    trt = rf(inference_cli, served, "batch-processing", "trt-compile", "--model-id", "proj/3", "--device", "nvidia-l4")
    assert trt.returncode != 0 and "not supported by Conveyor" in trt.stdout + trt.stderr
    roboql = httpx.post(f"{served.base_url}{STAGING}/batches/rq/roboql-ingest", params={"api_key": served.api_key},
                        json={"query": "project:x"})
    assert roboql.status_code == 501 and "local-directory" in roboql.json()["message"]
    missing_stage = api_get(served, f"{JOBS}/jobs/pics-job/stages/nope/tasks")
    assert missing_stage.status_code == 404 and "no stage 'nope'" in missing_stage.json()["message"]


def _linked_folder(folder: Path, inodes: int, names_each: int) -> list[str]:
    """``inodes`` images, each under ``names_each`` names (hard links, as ``cp -al`` leaves them), and one file
    that is no image; the names that should be staged."""
    folder.mkdir()
    names = []
    for i in range(inodes):
        first = folder / f"l-{i:03d}-0.jpg"
        first.write_bytes(jpeg(700 + i, size=(32, 32)))
        names.append(first.name)
        for n in range(1, names_each):
            os.link(first, folder / f"l-{i:03d}-{n}.jpg")
            names.append(f"l-{i:03d}-{n}.jpg")
    (folder / "broken.jpg").write_bytes(b"not an image")
    return sorted(names)


def test_hard_linked_folders_are_staged_whole_from_every_client(inference_cli: Path, served: Deployment,
                                                               hooks: Hooks, tmp_path: Path) -> None:
    """Each client packs a further name of a hard-linked file as a tar link: every name is staged, and the
    Conveyor CLI's summary counts what was staged and refused, with the ingest options it shows honoured."""
    names = _linked_folder(tmp_path / "rf", 16, 3)  # 49 files: inference-cli sends archives past 32
    _ok(rf(inference_cli, served, "data-staging", "create-batch-of-images", "--batch-id", "linked-rf",
           "--images-dir", str(tmp_path / "rf")))
    assert wait_count(served, "linked-rf", len(names)) == len(names)
    assert sorted(_names(served, "linked-rf")) == names

    names = _linked_folder(tmp_path / "client", 5, 3)
    with ConveyorClient(served.base_url, served.api_key) as client:
        assert client.stage_folder("linked-client", tmp_path / "client", per_archive=8) == Staged(
            "linked-client", sent=16, indexed=15, failed=1)
    assert sorted(_names(served, "linked-client")) == names

    # 13 files: a simple upload each, unless an ingest option asks for archives (they carry the webhook)
    names = _linked_folder(tmp_path / "cli", 4, 3)
    env = {**served.env, "API_BASE_URL": served.base_url, "CONVEYOR_API_KEY": served.api_key}
    cli = conveyor("data-staging", "create-batch-of-images", "-b", "linked-cli", "--images-dir", str(tmp_path / "cli"),
                   "--ingest-id", "linked-cli-1", "--notifications-url", f"{hooks.url}/linked",
                   "--notification-category", "ingest-status", home=tmp_path / "home", env=env)
    assert cli.returncode == 0, cli.stdout + cli.stderr
    assert "staged 12 of 13 images into batch linked-cli (ingest linked-cli-1); 1 refused" in " ".join(
        cli.stdout.split())
    assert sorted(_names(served, "linked-cli")) == names
    (status,) = hooks.wait("/linked", 1, settle=3.0)  # ingest-status alone: the category asked for
    assert status["ingest_id"] == "linked-cli-1"
    assert status["notification"]["type"] == "ingest-status-notification-v1"
    assert status["notification"]["ingested_files_count"] == 12 and status["notification"]["failed_files_count"] == 1

    simple = conveyor("data-staging", "create-batch-of-images", "-b", "simple-cli", "--images-dir",
                      str(tmp_path / "cli"), home=tmp_path / "home", env=env)
    assert simple.returncode == 0, simple.stdout + simple.stderr
    assert "staged 12 of 13 images into batch simple-cli; 1 refused" in " ".join(simple.stdout.split())
    assert "broken.jpg" in simple.stderr
    wrong = conveyor("data-staging", "create-batch-of-images", "-b", "x", "--images-dir", str(tmp_path / "cli"),
                     "--notification-category", "ingest-status", home=tmp_path / "home", env=env)
    assert wrong.returncode == 2 and "--notification-category needs --notifications-url" in wrong.stderr
