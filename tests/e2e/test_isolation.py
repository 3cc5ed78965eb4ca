"""Workspace isolation, table-driven over every route of every public API (read from the services' OpenAPI
documents, so a new route is covered the day it is added): a key of one workspace can neither read nor change
anything of another, whichever way the request is shaped."""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

import httpx
import pytest

from tests.fixtures.cli import conveyor
from tests.fixtures.deployment import Deployment
from tests.fixtures.media import photo
from tests.fixtures.workflows import detect_workflow

API_PORTS = {"ingest": 9101, "scheduler": 9102, "notifier": 9105}
# routes that take no workspace: discovery answers for the caller's own key; signed links carry their own proof
# what only the owner's data contains (ids in the path may be echoed in a 404's message; these never are)
MARKERS = ("bus.jpg", "hooks.example.com", "roboflow_object_detection_model")
WITHOUT_WORKSPACE = {"/", "/files/upload/{token}", "/files/download/{token}"}


def routes() -> list[tuple[str, str, str]]:
    found = []
    for service, port in API_PORTS.items():
        spec = httpx.get(f"http://127.0.0.1:{port}/openapi.json", timeout=10).json()
        for path, operations in spec["paths"].items():
            found += [(service, method.upper(), path) for method in operations]
    return found


@pytest.fixture(scope="module")
def owner(deployment: Deployment) -> dict[str, Any]:
    """Workspace 'e2e' with a batch, a workflow, a model alias, a job and a webhook delivery of its own."""
    base, key, ws = deployment.base_url, deployment.api_key, deployment.workspace
    api = httpx.Client(base_url=base, params={"api_key": key}, timeout=30)
    resp = api.post(f"/data-staging/v1/external/{ws}/batches/iso-batch/upload/image", params={"fileName": "bus.jpg"},
                    files={"bus.jpg": ("bus.jpg", photo("bus.jpg"))})
    assert resp.status_code == 200, resp.text
    assert api.put(f"/{ws}/workflows/iso-wf", json={"specification": detect_workflow()}).status_code == 200
    assert api.put(f"/{ws}/model-aliases/iso-alias", json={"modelId": "yolov4-tiny-coco"}).status_code == 200
    body = {"type": "simple-image-processing-v1",
            "jobInput": {"type": "staging-batch-input-v1", "batchId": "iso-batch"},
            "computeConfiguration": {"type": "compute-configuration-v2", "machineType": "cpu"},
            "notificationsURL": "https://hooks.example.com/conveyor",
            "processingSpecification": {"type": "workflows-processing-specification-v1", "workspace": ws,
                                        "workflowId": "iso-wf"}}
    assert api.post(f"/batch-processing/v1/external/{ws}/jobs/iso-job", json=body).status_code == 200
    deadline = time.monotonic() + 120
    while not api.get(f"/batch-processing/v1/external/{ws}/jobs/iso-job").json()["job"]["isTerminal"]:
        assert time.monotonic() < deadline
        time.sleep(0.3)
    shards = api.get(f"/data-staging/v1/external/{ws}/batches/iso-job-export/shards").json()["shards"]
    deliveries = api.get(f"/notifications/v1/{ws}/deliveries").json()["deliveries"]
    return {"api": api, "ws": ws, "shard_id": shards[0]["shardId"] if shards else uuid.uuid4().hex,
            "delivery_id": deliveries[0]["deliveryId"] if deliveries else str(uuid.uuid4()),
            "job": api.get(f"/batch-processing/v1/external/{ws}/jobs/iso-job").json()["job"]}


@pytest.fixture(scope="module")
def intruder(deployment: Deployment) -> tuple[str, str]:
    created = conveyor("workspace", "create", "intruder", home=deployment.home, env=deployment.env)
    assert created.returncode == 0, created.stderr
    return "intruder", created.stdout.strip().splitlines()[-1]


def fill(path: str, ws: str, owner: dict[str, Any]) -> str:
    values = {"workspace": ws, "batch_id": "iso-batch", "job_id": "iso-job", "workflow_id": "iso-wf",
              "stage_id": "processing", "shard_id": owner["shard_id"], "delivery_id": owner["delivery_id"],
              "model_id": "yolov4-tiny-coco", "part_name": "results", "alias": "iso-alias",
              "key_id": "00000000-0000-0000-0000-000000000000"}
    return re.sub(r"\{([a-z_]+)(?::path)?\}", lambda m: values[m.group(1)], path)


def test_every_route_refuses_another_workspaces_key(deployment: Deployment, owner: dict[str, Any],
                                                    intruder: tuple[str, str]) -> None:
    intruder_ws, intruder_key = intruder
    table = [r for r in routes() if r[2] not in WITHOUT_WORKSPACE]
    assert len(table) >= 30  # the whole surface: staging, jobs, registry, webhooks
    leaks = []
    for service, method, path in table:
        url = f"http://127.0.0.1:{API_PORTS[service]}{fill(path, owner['ws'], owner)}"
        for key, expected in ((intruder_key, 403), (None, 401), ("cvr_forged", 401)):
            resp = httpx.request(method, url, params={"api_key": key} if key else {}, json={}, timeout=30)
            if resp.status_code != expected or any(m in resp.text for m in MARKERS):
                leaks.append((method, path, key and key[:8], resp.status_code, resp.text[:120]))
        # the owner's ids on the intruder's own paths: nothing found, nothing listed
        own = f"http://127.0.0.1:{API_PORTS[service]}{fill(path, intruder_ws, owner)}"
        resp = httpx.request(method, own, params={"api_key": intruder_key}, json={}, timeout=30)
        if resp.status_code < 300 and any(m in resp.text for m in MARKERS):
            leaks.append((method, path, "own-path", resp.status_code, resp.text[:120]))
    assert not leaks, "\n".join(map(str, leaks))

    # and nothing of the owner's changed
    api, ws = owner["api"], owner["ws"]
    job = api.get(f"/batch-processing/v1/external/{ws}/jobs/iso-job").json()["job"]
    assert job["state"] == owner["job"]["state"] and job["lastUpdate"] == owner["job"]["lastUpdate"]
    assert api.get(f"/data-staging/v1/external/{ws}/batches/iso-batch/count").json()["count"] == 1
    assert api.get(f"/{ws}/workflows/iso-wf").status_code == 200
    aliases = api.get(f"/{ws}/model-aliases").json()["aliases"]  # other modules' aliases of 'e2e' may be there
    assert ("iso-alias", "yolov4-tiny-coco") in [(a["alias"], a["modelId"]) for a in aliases]


def test_the_gateway_forwards_no_traversal_and_frames_no_ui(deployment: Deployment) -> None:
    """Encoded dot segments would reach a service's /metrics, /docs or /openapi.json behind the gateway."""
    base = deployment.base_url
    for path in ("/data-staging/%2e%2e/metrics", "/data-staging/v1/%2E%2E/%2e%2e/docs", "/files/%2e%2e/openapi.json",
                 "/batch-processing/v1/external/e2e/jobs/%00", "/data-staging/v1/external/e2e/batches/a%0Ab"):
        with httpx.Client() as client:  # sent as written: httpx would otherwise normalise the dots away
            resp = client.send(client.build_request("GET", httpx.URL(base + path)))
        assert resp.status_code == 400 and resp.json()["error"] == "InvalidInput", (path, resp.text[:200])
    # sent straight to the scheduler, a NUL in a job id once leaked a database connection a request: after
    # the pool's ten, the scheduler answered nobody
    for _ in range(15):
        with httpx.Client() as client:
            resp = client.send(client.build_request("GET", httpx.URL(
                "http://127.0.0.1:9102/batch-processing/v1/external/e2e/jobs/%00"),
                params={"api_key": deployment.api_key}))
        assert resp.status_code in (400, 404) and resp.json()["error"] in ("InvalidInput", "JobNotFound")
    listed = httpx.get(f"{base}/batch-processing/v1/external/e2e/jobs", params={"api_key": deployment.api_key},
                       timeout=10)
    assert listed.status_code == 200
    ui = httpx.get(f"{base}/ui/")
    assert ui.status_code == 200 and ui.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in ui.headers["content-security-policy"]


SCOPE_RANK = {"read": 0, "trigger": 1, "admin": 2}


def needed_scope(method: str, path: str) -> str:
    """The policy the README states: reading is read; the signing secret and the keys are admin, as is any
    change to the workspace's setup (its workflows, models, aliases); any other change is trigger."""
    if "/signing-secret" in path or "/api-keys" in path:
        return "admin"
    if method == "GET":
        return "read"
    return "admin" if path.startswith("/{workspace}/") else "trigger"


def test_every_route_refuses_a_key_whose_scope_is_too_small(deployment: Deployment, owner: dict[str, Any]) -> None:
    api, ws = owner["api"], owner["ws"]
    keys = {}
    for scope in ("read", "trigger"):
        made = api.post(f"/{ws}/api-keys", json={"scope": scope, "label": f"iso-{scope}"})
        assert made.status_code == 200 and made.json()["scope"] == scope, made.text
        keys[scope] = made.json()["key"]
    table = [r for r in routes() if r[2] not in WITHOUT_WORKSPACE]
    checked, wrong = 0, []
    for service, method, path in table:
        needed = needed_scope(method, path)
        url = f"http://127.0.0.1:{API_PORTS[service]}{fill(path, ws, owner)}"
        for scope, key in keys.items():
            if SCOPE_RANK[scope] >= SCOPE_RANK[needed]:
                continue  # allowed: sent below for a few routes only (the others would change the owner's data)
            resp = httpx.request(method, url, params={"api_key": key}, json={}, timeout=30)
            checked += 1
            if resp.status_code != 403 or f"needs '{needed}'" not in resp.text:
                wrong.append((method, path, scope, resp.status_code, resp.text[:160]))
    assert not wrong, "\n".join(map(str, wrong))
    assert checked >= 30
    # what a scope allows, it does: read lists and reads, trigger also starts a job, by Bearer header too
    read = httpx.Client(base_url=deployment.base_url, headers={"Authorization": f"Bearer {keys['read']}"}, timeout=30)
    assert read.get(f"/batch-processing/v1/external/{ws}/jobs/iso-job").status_code == 200
    assert read.get(f"/data-staging/v1/external/{ws}/batches/iso-batch/count").json()["count"] == 1
    body = {**owner["job"]["jobDefinition"], "type": "simple-image-processing-v1"}
    started = httpx.post(f"{deployment.base_url}/batch-processing/v1/external/{ws}/jobs/iso-trigger", json=body,
                         headers={"Authorization": f"Bearer {keys['trigger']}"}, timeout=30)
    assert started.status_code == 200, started.text
    # let it end here: a job left processing in the session's database is every later scheduler's to watch
    deadline = time.monotonic() + 120
    while not api.get(f"/batch-processing/v1/external/{ws}/jobs/iso-trigger").json()["job"]["isTerminal"]:
        assert time.monotonic() < deadline, "the job started with the trigger key did not end"
        time.sleep(0.3)
    # the keys are listed with their scope and last use, and a revoked one opens nothing
    listed = {k["label"]: k for k in api.get(f"/{ws}/api-keys").json()["keys"]}
    assert listed["iso-read"]["scope"] == "read" and listed["iso-read"]["lastUsedAt"]
    assert keys["read"].startswith(listed["iso-read"]["prefix"]) and keys["read"] not in str(listed)
    assert api.delete(f"/{ws}/api-keys/{listed['iso-read']['keyId']}").json()["status"] == "ok"
    assert read.get(f"/batch-processing/v1/external/{ws}/jobs/iso-job").status_code == 401
