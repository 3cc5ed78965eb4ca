from pathlib import Path

import httpx

from tests.fixtures.cli import conveyor

BASE = "http://127.0.0.1:8000"


def test_up_serves_every_service_behind_one_base_url(tmp_path: Path, stack_env: dict[str, str]) -> None:
    up = conveyor("up", "--detach", "--workspace", "e2e-ws", home=tmp_path)
    try:
        assert up.returncode == 0, up.stderr
        key = (tmp_path / "api_key").read_text().strip()
        assert key.startswith("cvr_") and key in up.stderr

        health = httpx.get(f"{BASE}/healthz", timeout=10).json()
        assert health["status"] == "ok"
        assert set(health["services"]) == {"ingest", "scheduler", "worker", "export", "notifier"}
        assert all(s["checks"] == {"postgres": "ok", "s3": "ok", "kafka": "ok"} for s in health["services"].values())

        # workspace discovery as inference-cli does it, with and without a trailing slash in API_BASE_URL
        assert httpx.get(f"{BASE}?api_key={key}").json()["workspace"] == "e2e-ws"
        assert httpx.get(f"{BASE}//?api_key={key}").json()["workspace"] == "e2e-ws"
        denied = httpx.get(f"{BASE}/?api_key=cvr_wrong")
        assert denied.status_code == 401 and denied.json()["error"] == "Unauthorized"
        assert httpx.get(f"{BASE}/no/such/route").status_code == 404

        # a second 'up' keeps the same key for the workspace
        assert conveyor("down", "--keep-stack", home=tmp_path).returncode == 0
        again = conveyor("up", "--detach", "--workspace", "e2e-ws", home=tmp_path)
        assert again.returncode == 0, again.stderr
        assert (tmp_path / "api_key").read_text().strip() == key
    finally:
        down = conveyor("down", "--keep-stack", home=tmp_path)
    assert down.returncode == 0
    try:
        httpx.get(f"{BASE}/healthz", timeout=2)
        raise AssertionError("gateway still answering after 'conveyor down'")
    except httpx.ConnectError:
        pass
