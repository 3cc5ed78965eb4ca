import json
from pathlib import Path

from tests.fixtures.cli import conveyor

PORTS = {"CONVEYOR_SERVICE_PORT_BASE": "9200", "CONVEYOR_GATEWAY_PORT": "9300", "KAFKA_TOPIC_PREFIX": "demo",
         "KAFKA_SESSION_TIMEOUT_MS": "3000", "KAFKA_HEARTBEAT_INTERVAL_MS": "500"}


def test_demo_processes_real_photos_and_videos_end_to_end(tmp_path: Path, stack_env: dict[str, str]) -> None:
    out = tmp_path / "out"
    result = conveyor("demo", "--output", str(out), home=tmp_path / "home", env=PORTS, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "Conveyor demo" in result.stdout and result.stdout.count("succeeded") >= 2
    image_results = [p for p in out.glob("img-*/results-*.jsonl")]
    video_results = [p for p in out.glob("vid-*/results-*.jsonl")]
    assert len(image_results) == 1 and len(video_results) == 1
    photos = [json.loads(line) for line in image_results[0].read_text().splitlines()]
    assert len(photos) == 8
    bus = next(r for r in photos if r["image"] == "bus.jpg")
    assert {"bus", "person"} <= {d["class"] for d in bus["predictions"]["predictions"]}
    assert (image_results[0].parent / "visualization__bus.jpg.jpg").exists()
    frames = [json.loads(line) for line in video_results[0].read_text().splitlines()]
    bikes = [f for f in frames if f["video"] == "bikes.mp4"]
    assert len(bikes) == 20  # 10 s of video sampled at 2 frames per second
    assert any(d["class"] in ("car", "bicycle", "person") for f in bikes for d in f["predictions"]["predictions"])
