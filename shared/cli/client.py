"""A small synchronous client of Conveyor's public API, used by the CLI and the demo."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx

from shared.events.webhooks import PAYLOADS, JobNotificationV1, StagingNotificationV1
from shared.webhooks import InvalidSignature, verify

__all__ = ["ApiError", "ConveyorClient", "InvalidSignature", "JobNotificationV1", "StagingNotificationV1",
           "verify_webhook"]


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


class ConveyorClient:
    def __init__(self, base_url: str, api_key: str, *, timeout: float = 120) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.http = httpx.Client(base_url=self.base_url, timeout=timeout)
        self._workspace: str | None = None

    def close(self) -> None:
        self.http.close()

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        params = {"api_key": self.api_key, **kwargs.pop("params", {})}
        resp = self.http.request(method, path, params=params, **kwargs)
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

    def job(self, job_id: str) -> dict[str, Any]:
        return self._call("GET", self.jobs(f"/jobs/{job_id}"))["job"]

    def stages(self, job_id: str) -> list[dict[str, Any]]:
        return self._call("GET", self.jobs(f"/jobs/{job_id}/stages"))["stages"]

    def list_jobs(self, pages: int = 1, page_size: int = 10) -> list[dict[str, Any]]:
        return self._pages(self.jobs("/jobs"), "jobs", page_size, pages)

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

    def put_model(self, model_id: str, path: Path, task: str, class_names: list[str]) -> dict[str, Any]:
        return self._call("PUT", f"/{self.workspace}/models/{model_id}",
                          data={"task": task, "classNames": json.dumps(class_names)},
                          files={"file": (path.name, path.read_bytes())})
