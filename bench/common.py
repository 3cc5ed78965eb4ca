"""Shared pieces of the benchmarks: the image set, a running Conveyor, and the report."""

from __future__ import annotations

import contextlib
import http.server
import io
import json
import os
import platform
import tarfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from deploy.local.samples import ensure_samples
from shared.config import REPO_ROOT, ServiceSettings

DATA = REPO_ROOT / "bench" / ".data"
RESULTS = REPO_ROOT / "bench" / "results"
# its own ports and home, so a benchmark never touches a developer's `conveyor up`
BENCH_ENV = {"CONVEYOR_HOME": str(REPO_ROOT / "bench" / ".home"), "CONVEYOR_PORT_BASE": "23000",
             "CONVEYOR_GATEWAY_PORT": "23800", "CONVEYOR_SERVICE_PORT_BASE": "23900",
             "CONVEYOR_PUBLIC_URL": "http://127.0.0.1:23800", "CONVEYOR_LOG_FORMAT": "json"}


def real_images(count: int) -> list[Path]:
    """``count`` real photos of varied sizes (320 to 1600 px wide) made from the sample photos and frames of
    the sample street videos; written once under bench/.data."""
    target = DATA / f"images-{count}"
    files = sorted(target.glob("*.jpg"))
    if len(files) == count:
        return files
    target.mkdir(parents=True, exist_ok=True)
    samples = ensure_samples(ServiceSettings().cache_dir)
    sources = [img for p in samples.photos if (img := cv2.imread(str(p))) is not None]
    for video in samples.videos:
        cap = cv2.VideoCapture(str(video))
        ok, frame = cap.read()
        while ok:
            sources.append(frame)
            for _ in range(10):
                ok, frame = cap.read()
        cap.release()
    rng = np.random.default_rng(0)
    widths = (320, 480, 640, 800, 1024, 1280, 1600)
    for i in range(count):
        src = sources[i % len(sources)]
        width = widths[int(rng.integers(len(widths)))]
        image = cv2.resize(src, (width, max(32, int(src.shape[0] * width / src.shape[1]))))
        if rng.random() < 0.5:
            image = image[:, ::-1]
        cv2.imwrite(str(target / f"img-{i:05d}.jpg"), image, [cv2.IMWRITE_JPEG_QUALITY, 90])
    return sorted(target.glob("*.jpg"))


def tiny_jpegs(count: int, seed: int = 0) -> list[bytes]:
    """``count`` small distinct JPEGs (32 x 24 noise)."""
    rng = np.random.default_rng(seed)
    return [cv2.imencode(".jpg", rng.integers(0, 255, (24, 32, 3), dtype=np.uint8))[1].tobytes()
            for _ in range(count)]


def tar_of_bytes(members: list[tuple[str, bytes]]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def tiny_images(count: int, start: int = 0) -> bytes:
    """A tar of ``count`` small distinct JPEGs: orchestration cost dominates, not decoding."""
    images = tiny_jpegs(count, seed=start)
    return tar_of_bytes([(f"t{i:07d}.jpg", images[i - start]) for i in range(start, start + count)])


TAR_LIMIT = 500  # images per bulk-upload archive, as Roboflow's bulk upload takes them


def tar_of(files: list[Path]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for f in files:
            tar.add(str(f), arcname=f.name)
    return buf.getvalue()


@contextlib.contextmanager
def running_conveyor(**settings: str) -> Iterator[tuple[str, str]]:
    """Stack + every service process + gateway, as ``conveyor up`` starts them; yields (base URL, API key).
    The environment is restored afterwards: the stack's variables it exported would make a second run in the
    same process take the stopped stack for one given by the environment."""
    saved = dict(os.environ)
    os.environ.update({**BENCH_ENV, **settings})
    from deploy.local.home import local_stack
    from deploy.local.processes import bring_up, public_url, stop_services

    try:
        started_stack, key, _ = bring_up("bench", "memory")
        try:
            yield public_url(), key
        finally:
            stop_services()
            if started_stack:
                local_stack().stop()
    finally:
        os.environ.clear()
        os.environ.update(saved)


def wait_job(client: Any, job_id: str, timeout: float = 3600, poll_s: float = 0.5) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.job(job_id)
        if job["isTerminal"]:
            return job
        time.sleep(poll_s)  # as a client would; polling faster takes CPU from the job it measures
    raise TimeoutError(f"job {job_id} not finished after {timeout}s")


class JobHooks:
    """Receives the jobs' webhooks on 127.0.0.1, so a benchmark learns that a job ended the way a user's
    service would, when Conveyor says so, instead of polling (which would take CPU from the job it times)."""

    def __init__(self) -> None:
        self._ended: dict[str, float] = {}
        self._arrived = threading.Condition()
        hooks = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                arrived = time.perf_counter()
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
                self.send_response(200)
                self.end_headers()
                if body.get("type") == "roboflow-batch-job-notification-v1":
                    with hooks._arrived:
                        hooks._ended.setdefault(body["job_id"], arrived)
                        hooks._arrived.notify_all()

            def log_message(self, *args: Any) -> None:
                return None

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self._server.server_port}"

    @property
    def url(self) -> str:
        return f"http://{self.host}/jobs"

    def ended(self, job_id: str, timeout: float) -> float | None:
        """``time.perf_counter()`` when the job's end was notified, or None after ``timeout`` seconds."""
        with self._arrived:
            self._arrived.wait_for(lambda: job_id in self._ended, timeout)
            return self._ended.get(job_id)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> JobHooks:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def wait_notified(client: Any, hooks: JobHooks, job_id: str, timeout: float = 3600) -> tuple[float, dict[str, Any]]:
    """When the job's end was notified, and the job as its API then shows it. Every few seconds the job is
    looked at too, so a webhook that never comes fails the benchmark instead of hanging it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ended = hooks.ended(job_id, 5.0)
        if ended is not None:
            return ended, client.job(job_id)
        job = client.job(job_id)
        if job["isTerminal"]:
            ended = hooks.ended(job_id, 30.0)
            if ended is None:
                raise RuntimeError(f"job {job_id} ended but its webhook never came")
            return ended, job
    raise TimeoutError(f"job {job_id} not finished after {timeout}s")


CPU_FLAGS = ("avx2", "avx512f", "avx512_vnni", "avx512_bf16", "amx_tile", "amx_bf16", "amx_int8")


def machine() -> dict[str, Any]:
    """The machine a figure came from: its CPU model and the instruction sets the runtimes choose kernels by."""
    model, flags = "", set[str]()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name" and not model:
                model = value.strip()
            elif key.strip() == "flags" and not flags:
                flags = set(value.split())
    return {"cpus": os.cpu_count(), "cpu": model, "cpu_flags": [f for f in CPU_FLAGS if f in flags],
            "python": platform.python_version(), "platform": platform.platform()}


def report(name: str, rows: list[tuple[str, str]], data: dict[str, Any]) -> Path:
    width = max(len(k) for k, _ in rows)
    print(f"\n{name}\n" + "-" * (width + 30))
    for key, value in rows:
        print(f"{key:<{width}}  {value}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps({"benchmark": name, "machine": machine(), **data}, indent=2))
    print(f"(written to {path.relative_to(REPO_ROOT)})")
    return path


def decode(data: bytes) -> np.ndarray:
    """BGR pixels of a JPEG, as every peer decodes it (a full-size ``cv2.imdecode``)."""
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    assert image is not None, "not an image"
    return image
