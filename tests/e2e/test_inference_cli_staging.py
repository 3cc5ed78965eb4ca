"""The real inference-cli (``inference rf-cloud data-staging ...``) against Conveyor, unchanged."""

import json
from pathlib import Path

import pytest

from tests.fixtures.deployment import Deployment
from tests.fixtures.media import jpeg, mp4, photo
from tests.fixtures.rfcli import api_get, rf, wait_count


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    few = tmp_path_factory.mktemp("few")
    (few / "bus.jpg").write_bytes(photo("bus.jpg"))
    (few / "zidane.jpg").write_bytes(photo("zidane.jpg"))
    for i in range(3):
        (few / f"noise-{i}.jpg").write_bytes(jpeg(i))
    many = tmp_path_factory.mktemp("many")
    for i in range(40):
        (many / f"img-{i:03d}.jpg").write_bytes(jpeg(100 + i, size=(48 + i, 64)))
    videos = tmp_path_factory.mktemp("videos")
    for i in range(2):
        (videos / f"clip-{i}.mp4").write_bytes(mp4(frames=8 + i))
    return {"few": few, "many": many, "videos": videos}


def test_create_batches_of_images_small_and_bulk(inference_cli: Path, deployment: Deployment,
                                                 images: dict[str, Path]) -> None:
    small = rf(inference_cli, deployment, "data-staging", "create-batch-of-images", "--images-dir",
               str(images["few"]), "--batch-id", "cli-few", "--batch-name", "Few photos")
    assert small.returncode == 0, small.stdout + small.stderr
    assert wait_count(deployment, "cli-few", 5) == 5

    bulk = rf(inference_cli, deployment, "data-staging", "create-batch-of-images", "--images-dir",
              str(images["many"]), "--batch-id", "cli-many")
    assert bulk.returncode == 0, bulk.stdout + bulk.stderr
    assert wait_count(deployment, "cli-many", 40) == 40  # indexed in the background from the uploaded tar
    batch = api_get(deployment, "/data-staging/v1/external/e2e/batches/cli-many").json()["batch"]
    assert batch["batchType"] == "sharded-batch"

    details = rf(inference_cli, deployment, "data-staging", "show-batch-details", "--batch-id", "cli-few")
    assert details.returncode == 0, details.stdout + details.stderr
    assert "cli-few" in details.stdout and "Few photos" in details.stdout and "5" in details.stdout

    listing = rf(inference_cli, deployment, "data-staging", "list-batches")
    assert listing.returncode == 0, listing.stdout + listing.stderr
    assert "cli-few" in listing.stdout and "cli-many" in listing.stdout


def test_list_ingest_details_and_batch_content(inference_cli: Path, deployment: Deployment, tmp_path: Path,
                                               images: dict[str, Path]) -> None:
    assert wait_count(deployment, "cli-many", 40) == 40
    out = tmp_path / "shards.jsonl"
    shards = rf(inference_cli, deployment, "data-staging", "list-ingest-details", "--batch-id", "cli-many",
                "--output-file", str(out))
    assert shards.returncode == 0, shards.stdout + shards.stderr
    rows = [json.loads(line) for line in out.read_text().splitlines() if line.strip()]
    assert rows and sum(r["shard_objects_count"] for r in rows) == 40
    assert all(r["status_type"] == "success" for r in rows)

    content = tmp_path / "content.jsonl"
    listed = rf(inference_cli, deployment, "data-staging", "list-batch-content", "--batch-id", "cli-few",
                "--output-file", str(content))
    assert listed.returncode == 0, listed.stdout + listed.stderr
    names = sorted(json.loads(line)["file_name"] for line in content.read_text().splitlines() if line.strip())
    assert names == sorted(p.name for p in images["few"].glob("*.jpg"))


def test_create_batch_of_videos(inference_cli: Path, deployment: Deployment, images: dict[str, Path]) -> None:
    result = rf(inference_cli, deployment, "data-staging", "create-batch-of-videos", "--videos-dir",
                str(images["videos"]), "--batch-id", "cli-videos")
    assert result.returncode == 0, result.stdout + result.stderr
    assert wait_count(deployment, "cli-videos", 2) == 2
    batch = api_get(deployment, "/data-staging/v1/external/e2e/batches/cli-videos").json()["batch"]
    assert batch["batchContentType"] == "videos"


def test_export_batch_downloads_every_file(inference_cli: Path, deployment: Deployment, tmp_path: Path,
                                           images: dict[str, Path]) -> None:
    assert wait_count(deployment, "cli-few", 5) == 5
    target = tmp_path / "export"
    result = rf(inference_cli, deployment, "data-staging", "export-batch", "--batch-id", "cli-few",
                "--target-dir", str(target))
    assert result.returncode == 0, result.stdout + result.stderr
    for source in images["few"].iterdir():
        if source.suffix == ".jpg":
            exported = next(target.rglob(source.name))
            assert exported.read_bytes() == source.read_bytes()


def test_cli_reports_clear_errors(inference_cli: Path, deployment: Deployment) -> None:
    missing = rf(inference_cli, deployment, "data-staging", "show-batch-details", "--batch-id", "no-such-batch")
    assert missing.returncode != 0 and "does not exist" in missing.stdout + missing.stderr
