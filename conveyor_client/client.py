"""Conveyor's Python client: the synchronous client of its public API that the CLI and the demo use.

    from conveyor_client.client import ConveyorClient

    with ConveyorClient("http://127.0.0.1:8000", api_key) as conveyor:
        conveyor.stage_folder("street", Path("photos/"))                 # tar archives through signed URLs
        conveyor.put_workflow("detect", workflow_json)                    # a Roboflow Workflow definition
        conveyor.start_job("street-1", "street", "detect")
        job = conveyor.follow("street-1")                                 # server-sent events until it ends
        rows = conveyor.download_results("street-1", Path("out/"))       # one dict per image

Every method raises ``ApiError`` (with the HTTP status and the API's message) when the API refuses.
"""

from __future__ import annotations

import collections
import csv
import io
import json
import tarfile
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from shared.events.webhooks import PAYLOADS, JobNotificationV1, StagingNotificationV1
from shared.webhooks import InvalidSignature, verify

__all__ = ["ApiError", "ConveyorClient", "InvalidSignature", "JobNotificationV1", "Staged", "StagingNotificationV1",
           "verify_webhook"]

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff", ".jp2"})
NOTIFICATION_CONFIG = "notification_config.json"  # an archive member ingest reads, as Roboflow's does
TERMINAL_SHARD = frozenset({"indexed", "indexed-with-failures", "failed"})


@dataclass(frozen=True)
class Staged:
    """What ``stage_folder`` staged: the images indexed and those refused (with the shards' failure counts)."""

    batch_id: str
    sent: int
    indexed: int
    failed: int


class ApiError(RuntimeError):
    """The API answered with an error; carries its status and message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"HTTP {status}: {message}")
        self.status = status
        self.message = message


def verify_webhook(secret: str, headers: Mapping[str, str], body: bytes) -> JobNotificationV1 | StagingNotificationV1:
    """A webhook delivery checked and read: its Standard Webhooks signature (``webhook-id``, ``webhook-timestamp``,
    ``webhook-signature``) verified with the workspace's signing secret (``whsec_...``), then its body as a typed
    payload. Raises ``InvalidSignature`` for a forged, altered or replayed delivery (older than five minutes)."""
    verify(secret, headers, body)
    return PAYLOADS.validate_json(body)


CREATE_RETRIES, RETRY_PAUSE_S = 3, 0.5


def _answer_lost(resp: httpx.Response) -> bool:
    """The service did not answer the request itself (a gateway that lost it, a service that says when to come
    back, the first sending still being answered): send it again under its key. An answer of the service's own,
    a 503 saying why an estimate could not end for one, is kept."""
    return (resp.status_code in (502, 504) or (resp.status_code == 503 and "retry-after" in resp.headers)
            or (resp.status_code == 409 and "still being answered" in resp.text))


class ConveyorClient:
    def __init__(self, base_url: str, api_key: str, *, timeout: float = 120) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.http = httpx.Client(base_url=self.base_url, timeout=timeout)
        self._workspace: str | None = None

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> ConveyorClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        """One API call. A create (a POST or PUT of JSON) carries an ``Idempotency-Key`` and is sent again under
        it when its answer is lost (a broken connection, a 502/503/504, the first still being answered): the
        service answers a repeat with the first answer, so a retry never makes a second job or estimate."""
        params = {"api_key": self.api_key, **kwargs.pop("params", {})}
        if method not in ("POST", "PUT") or "json" not in kwargs:
            return self._answer(self.http.request(method, path, params=params, **kwargs))
        headers = {"Idempotency-Key": uuid.uuid4().hex, **kwargs.pop("headers", {})}
        for attempt in range(CREATE_RETRIES + 1):
            last = attempt == CREATE_RETRIES
            try:
                resp = self.http.request(method, path, params=params, headers=headers, **kwargs)
            except httpx.TransportError:
                if last:
                    raise
            else:
                if last or not _answer_lost(resp):
                    return self._answer(resp)
            time.sleep(RETRY_PAUSE_S * 2 ** attempt)
        raise AssertionError("unreachable")

    @staticmethod
    def _answer(resp: httpx.Response) -> Any:
        if resp.status_code >= 400:
            try:
                message = resp.json().get("message") or resp.text
            except ValueError:
                message = resp.text
            raise ApiError(resp.status_code, message)
        return resp.json() if resp.content else {}

    @property
    def workspace(self) -> str:
        if self._workspace is None:
            self._workspace = self._call("GET", "/")["workspace"]
        return self._workspace

    def staging(self, suffix: str) -> str:
        return f"/data-staging/v1/external/{self.workspace}{suffix}"

    def jobs(self, suffix: str) -> str:
        return f"/batch-processing/v1/external/{self.workspace}{suffix}"

    # ------------------------------------------------------------------ staging
    def upload_image(self, batch_id: str, path: Path, display_name: str | None = None) -> None:
        params = {"fileName": path.name, **({"displayName": display_name} if display_name else {})}
        self._call("POST", self.staging(f"/batches/{batch_id}/upload/image"), params=params,
                   files={path.name: (path.name, path.read_bytes())})

    def upload_video(self, batch_id: str, path: Path) -> None:
        details = self._call("POST", self.staging(f"/batches/{batch_id}/upload/video"),
                             params={"fileName": path.name})["signedURLDetails"]
        with path.open("rb") as f:
            resp = httpx.put(details["uploadURL"], content=f.read(), headers=details["extensionHeaders"],
                             timeout=600)
        if resp.status_code >= 400:
            raise ApiError(resp.status_code, resp.text)

    def batch(self, batch_id: str) -> dict[str, Any]:
        return self._call("GET", self.staging(f"/batches/{batch_id}"))["batch"]

    def count(self, batch_id: str, part: str | None = None) -> int:
        return self._call("GET", self.staging(f"/batches/{batch_id}/count"),
                          params={"partName": part} if part else {})["count"]

    def files(self, batch_id: str, part: str | None = None) -> list[dict[str, Any]]:
        return self._pages(self.staging(f"/batches/{batch_id}/list"), "filesMetadata", 1000, 1_000_000,
                           partName=part)

    def download(self, url: str, target: Path) -> Path:
        target.parent.mkdir(parents=True, exist_ok=True)
        with httpx.stream("GET", url, timeout=600) as resp, target.open("wb") as f:
            if resp.status_code >= 400:
                raise ApiError(resp.status_code, resp.read().decode(errors="replace"))
            for chunk in resp.iter_bytes():
                f.write(chunk)
        return target

    def batches(self, page_size: int = 50, pages: int = 1) -> list[dict[str, Any]]:
        return self._pages(self.staging("/batches"), "batches", page_size, pages)

    def shards(self, batch_id: str) -> list[dict[str, Any]]:
        return self._pages(self.staging(f"/batches/{batch_id}/shards"), "shards", 100, 10_000)

    def parts(self, batch_id: str) -> list[dict[str, Any]]:
        return self._call("GET", self.staging(f"/batches/{batch_id}/parts"))["batchParts"]

    def tar_upload(self, batch_id: str, tar_bytes: bytes, display_name: str | None = None) -> None:
        params = {"displayName": display_name} if display_name else {}
        details = self._call("POST", self.staging(f"/batches/{batch_id}/bulk-upload/image-files"),
                             params=params)["signedURLDetails"]
        resp = httpx.put(details["uploadURL"], content=tar_bytes, headers=details["extensionHeaders"], timeout=600)
        if resp.status_code >= 400:
            raise ApiError(resp.status_code, resp.text)

    def upload_metadata(self, batch_id: str, part_name: str, jsonl: bytes) -> dict[str, Any]:
        return self._call("POST", self.staging(f"/batches/{batch_id}/upload/metadata"), content=jsonl,
                          params={"partName": part_name})

    def ingest_references(self, batch_id: str, kind: str, body: dict[str, Any],
                          display_name: str | None = None) -> dict[str, Any]:
        params = {"displayName": display_name} if display_name else {}
        return self._call("POST", self.staging(f"/batches/{batch_id}/bulk-upload/{kind}-references"), json=body,
                          params=params)

    def _pages(self, path: str, key: str, page_size: int, pages: int, **filters: str | None) -> list[dict[str, Any]]:
        """Up to ``pages`` pages of a listing, following ``nextPageToken``."""
        found: list[dict[str, Any]] = []
        token = None
        for _ in range(pages):
            params = {k: v for k, v in {**filters, "pageSize": page_size, "nextPageToken": token}.items() if v}
            page = self._call("GET", path, params=params)
            found += page[key]
            token = page.get("nextPageToken")
            if not token:
                break
        return found

    # ------------------------------------------------------------------ jobs and workflows
    def put_workflow(self, workflow_id: str, specification: dict[str, Any]) -> None:
        self._call("PUT", f"/{self.workspace}/workflows/{workflow_id}", json={"specification": specification})

    def create_job(self, job_id: str, body: dict[str, Any], name: str | None = None) -> None:
        self._call("POST", self.jobs(f"/jobs/{job_id}"), json=body, params={"name": name} if name else {})

    def estimate_job(self, body: dict[str, Any]) -> dict[str, Any]:
        """What the job of ``body`` would take; the server runs a sample first (up to its estimate wait)."""
        return self._call("POST", self.jobs("/jobs/estimate"), json=body, timeout=900)

    def job(self, job_id: str) -> dict[str, Any]:
        return self._call("GET", self.jobs(f"/jobs/{job_id}"))["job"]

    def stages(self, job_id: str) -> list[dict[str, Any]]:
        return self._call("GET", self.jobs(f"/jobs/{job_id}/stages"))["stages"]

    def list_jobs(self, pages: int = 1, page_size: int = 10, search: str | None = None) -> list[dict[str, Any]]:
        """Newest first; ``search`` keeps jobs whose id, name or workflow id contains it, or whose state it is."""
        return self._pages(self.jobs("/jobs"), "jobs", page_size, pages, search=search)

    def tasks(self, job_id: str, stage_id: str) -> list[dict[str, Any]]:
        return self._pages(self.jobs(f"/jobs/{job_id}/stages/{stage_id}/tasks"), "tasks", 500, 10_000)

    def abort(self, job_id: str) -> dict[str, Any]:
        return self._call("POST", self.jobs(f"/jobs/{job_id}/abort"))

    def restart(self, job_id: str, override: dict[str, Any] | None) -> dict[str, Any]:
        return self._call("POST", self.jobs(f"/jobs/{job_id}/restart"), json=override)

    def logs(self, job_id: str, severity: str | None = None) -> list[dict[str, Any]]:
        return self._pages(self.jobs(f"/jobs/{job_id}/logs"), "logs", 500, 1_000_000, severity=severity)

    def workflows(self) -> list[dict[str, Any]]:
        return self._pages(f"/{self.workspace}/workflows", "workflows", 100, 10_000)

    def webhook_secret(self) -> dict[str, Any]:
        return self._call("GET", f"/notifications/v1/{self.workspace}/signing-secret")

    def deliveries(self, status: str | None = None, job_id: str | None = None,
                   batch_id: str | None = None) -> list[dict[str, Any]]:
        filters = {k: v for k, v in (("status", status), ("jobId", job_id), ("batchId", batch_id)) if v}
        return self._pages(f"/notifications/v1/{self.workspace}/deliveries", "deliveries", 100, 1_000, **filters)

    def redeliver(self, status: str = "dead", job_id: str | None = None, batch_id: str | None = None) -> int:
        """Every delivery in ``status`` (of one job or batch, if given) sent again; how many."""
        filters = {k: v for k, v in (("status", status), ("jobId", job_id), ("batchId", batch_id)) if v}
        return int(self._call("POST", f"/notifications/v1/{self.workspace}/deliveries/redeliver",
                              params=filters)["redelivered"])

    def api_keys(self) -> list[dict[str, Any]]:
        return list(self._call("GET", f"/{self.workspace}/api-keys")["keys"])

    def create_api_key(self, scope: str, label: str = "") -> dict[str, Any]:
        """A new key of the workspace (read, trigger or admin): ``key`` is the only time it is shown."""
        return self._call("POST", f"/{self.workspace}/api-keys", json={"scope": scope, "label": label})

    def revoke_api_key(self, key_id: str) -> None:
        self._call("DELETE", f"/{self.workspace}/api-keys/{key_id}")

    def rotate_webhook_secret(self) -> dict[str, Any]:
        return self._call("POST", f"/notifications/v1/{self.workspace}/signing-secret/rotate")

    def workflow(self, workflow_id: str) -> dict[str, Any]:
        return self._call("GET", f"/{self.workspace}/workflows/{workflow_id}")["workflow"]

    def models(self) -> list[dict[str, Any]]:
        return self._call("GET", f"/{self.workspace}/models")["models"]

    def model(self, model_id: str) -> dict[str, Any]:
        return self._call("GET", f"/{self.workspace}/models/{model_id}")["model"]

    def model_aliases(self) -> list[dict[str, Any]]:
        return self._call("GET", f"/{self.workspace}/model-aliases")["aliases"]

    def put_model_alias(self, alias: str, model_id: str) -> dict[str, Any]:
        return self._call("PUT", f"/{self.workspace}/model-aliases/{alias}", json={"modelId": model_id})

    def delete_model_alias(self, alias: str) -> bool:
        return bool(self._call("DELETE", f"/{self.workspace}/model-aliases/{alias}")["deleted"])

    def put_model(self, model_id: str, path: Path, task: str, class_names: list[str],
                  keypoint_names: list[str] | None = None) -> dict[str, Any]:
        return self._call("PUT", f"/{self.workspace}/models/{model_id}",
                          data={"task": task, "classNames": json.dumps(class_names),
                                **({"keypointNames": json.dumps(keypoint_names)} if keypoint_names else {})},
                          files={"file": (path.name, path.read_bytes())})

    # ------------------------------------------------------------------ the whole round trip
    def stage_folder(self, batch_id: str, folder: Path, *, per_archive: int = 500, timeout: float = 600,
                     display_name: str | None = None, notifications: dict[str, Any] | None = None) -> Staged:
        """Every image file under ``folder`` staged into ``batch_id``: tar archives of up to ``per_archive``
        images through signed URLs, then waited for until the background indexing has finished every archive.
        File names must be unique across subfolders (a batch's names are flat). ``notifications`` travels in
        each archive as its ``notification_config.json`` (``ingestId``, ``notificationsURL``,
        ``notificationCategories``), as inference-cli sends it: one ingest, its webhooks and its
        ``ingest.completed`` event. Hard-linked files travel as tar links, and are staged under every name."""
        images = sorted(p for p in Path(folder).rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
        names = [p.name for p in images]
        if len(set(names)) != len(names):
            raise ValueError(f"{folder} holds several images of one name; a batch's file names are flat")
        before = {s["shardId"] for s in self.shards(batch_id)} if self._batch_exists(batch_id) else set()
        for start in range(0, len(images), per_archive):
            buf = io.BytesIO()
            with tarfile.open(fileobj=buf, mode="w") as tar:
                for path in images[start:start + per_archive]:
                    tar.add(str(path), arcname=path.name)
                if notifications:
                    config = json.dumps(notifications).encode()
                    member = tarfile.TarInfo(NOTIFICATION_CONFIG)
                    member.size = len(config)
                    tar.addfile(member, io.BytesIO(config))
            self.tar_upload(batch_id, buf.getvalue(), display_name)
        archives = -(-len(images) // per_archive)
        deadline = time.monotonic() + timeout
        while True:
            shards = [s for s in self.shards(batch_id) if s["shardId"] not in before] if archives else []
            if len(shards) >= archives and all(s["statusName"] in TERMINAL_SHARD for s in shards):
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"{batch_id}: indexing not finished after {timeout:g} s")
            time.sleep(0.5)
        failed = sum(int((s.get("statusMetadata") or {}).get("failedObjectsCount") or 0) for s in shards)
        indexed = sum(int(s["shardObjectsCount"]) for s in shards)  # the files stored, the failed apart
        return Staged(batch_id, len(images), indexed, failed)

    def _batch_exists(self, batch_id: str) -> bool:
        try:
            self.batch(batch_id)
        except ApiError as exc:
            if exc.status == 404:
                return False
            raise
        return True

    def start_job(self, job_id: str, batch_id: str, workflow_id: str, *, machine_type: str = "cpu",
                  parameters: dict[str, Any] | None = None, notifications_url: str | None = None,
                  aggregation_format: str = "jsonl", image_outputs: list[str] | None = None,
                  max_runtime_s: int | None = None) -> None:
        """An image job running ``workflow_id`` over every image of ``batch_id``."""
        spec: dict[str, Any] = {"type": "workflows-processing-specification-v1", "workspace": self.workspace,
                                "workflowId": workflow_id, "aggregationFormat": aggregation_format,
                                "persistImagesOutputs": bool(image_outputs)}
        if parameters:
            spec["workflowParameters"] = parameters
        if image_outputs:
            spec["imagesOutputsToBePersisted"] = image_outputs
        body: dict[str, Any] = {
            "type": "simple-image-processing-v1", "jobInput": {"type": "staging-batch-input-v1", "batchId": batch_id},
            "computeConfiguration": {"type": "compute-configuration-v2", "machineType": machine_type},
            "processingSpecification": spec}
        if notifications_url:
            body["notificationsURL"] = notifications_url
        if max_runtime_s:
            body["processingTimeoutSeconds"] = max_runtime_s
        self.create_job(job_id, body)

    def job_updates(self, job_id: str, timeout: float = 3600) -> Iterator[dict[str, Any]]:
        """The job each time it changes, as its server-sent events (``GET .../jobs/{id}/events``) tell it,
        until it is terminal."""
        with self.http.stream("GET", self.jobs(f"/jobs/{job_id}/events"), params={"api_key": self.api_key},
                              timeout=httpx.Timeout(timeout, read=60)) as resp:
            if resp.status_code >= 400:
                raise ApiError(resp.status_code, resp.read().decode(errors="replace"))
            event, data = "", []
            for line in resp.iter_lines():
                if line.startswith("event:"):
                    event = line[6:].strip()
                elif line.startswith("data:"):
                    data.append(line[5:].strip())
                elif not line and data:
                    if event == "job":
                        job = json.loads("\n".join(data))
                        yield job
                        if job["isTerminal"]:
                            return
                    event, data = "", []

    def follow(self, job_id: str, timeout: float = 3600) -> dict[str, Any]:
        """The job once it has ended (succeeded, failed or aborted), followed by server-sent events."""
        updates = collections.deque(self.job_updates(job_id, timeout), maxlen=1)
        return updates[0] if updates else self.job(job_id)

    def download_results(self, job_id: str, target: Path) -> list[dict[str, Any]]:
        """The finished job's export archives downloaded and extracted into ``target``; returns its result rows
        (one per image: the JSONL, or the CSV read as dicts)."""
        rows: list[dict[str, Any]] = []
        for meta in self.files(f"{job_id}-export", "archives"):
            archive = self.download(meta["downloadURL"], Path(target) / meta["fileName"])
            with tarfile.open(archive) as tar:
                tar.extractall(target, filter="data")
                names = [m.name for m in tar.getmembers() if m.name.startswith("results-")]
            archive.unlink()
            for name in names:
                text = (Path(target) / name).read_text()
                if name.endswith(".jsonl"):
                    rows += [json.loads(line) for line in text.splitlines() if line]
                else:
                    rows += list(csv.DictReader(io.StringIO(text)))
        return rows
