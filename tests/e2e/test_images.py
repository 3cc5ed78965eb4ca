"""Every service image, built without Docker: the file set its Dockerfile's ``COPY`` lines describe, in a fresh
directory, with a fresh virtual environment made by the Dockerfile's own ``RUN`` lines (system paths mapped into
a temporary root, the system-user steps left out), then each image's exact ``ENV`` and ``CMD`` started against
the real stack. Every process must answer ``/healthz``, and one image job must run through processes started
that way. An image whose entry point imports something its ``COPY`` lines leave out fails here."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from deploy.local.processes import wait_healthy
from shared.config import REPO_ROOT
from tests.fixtures.media import jpeg
from tests.fixtures.pipeline import job_body

DOCKER = REPO_ROOT / "deploy" / "docker"
IMAGES = ("ingest", "scheduler", "worker", "export", "notifier", "gateway")
# the host ports the test maps each image's port to (as `docker run -p` would), away from other suites
HOST_PORTS = {"ingest": 9811, "scheduler": 9812, "worker": 9813, "export": 9814, "notifier": 9815, "gateway": 9810}
# steps that change the machine itself (its users, file owners): a container build does them as root in its
# own file system; here they are left out
SYSTEM_STEPS = ("useradd", "chown")


@dataclass
class Image:
    env: dict[str, str] = field(default_factory=dict)
    cmd: list[str] = field(default_factory=list)
    workdir: str = "/"


def instructions(dockerfile: Path) -> list[tuple[str, str]]:
    """(instruction, argument) pairs, continuation lines joined and comments dropped."""
    text = re.sub(r"\\\n", " ", dockerfile.read_text())
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line.strip() else "")
            for line in (raw.strip() for raw in text.splitlines()) if line and not line.startswith("#")]


def _env_pairs(argument: str) -> dict[str, str]:
    return dict(pair.split("=", 1) for pair in shlex.split(argument))


def build(dockerfile: Path, root: Path, image: Image, args: dict[str, str]) -> Image:
    """Apply one Dockerfile to ``image`` under the fake file system ``root``."""
    def mapped(text: str) -> str:
        for name, value in args.items():
            text = text.replace(f"${{{name}}}", value).replace(f"${name}", value)
        return re.sub(r"(?<![\w.])/(opt|var|app)\b", lambda m: f"{root}/{m.group(1)}", text)

    final = image  # a multi-stage build's last stage; an earlier, named one is built aside for its files
    for instruction, argument in instructions(dockerfile):
        if instruction == "FROM":
            image = Image(workdir=image.workdir) if " AS " in argument.upper() else final
        elif instruction == "ARG":
            name, _, default = argument.partition("=")
            args.setdefault(name, default)
        elif instruction == "ENV":
            for key, value in _env_pairs(argument).items():
                image.env[key] = mapped(value).replace("$PATH", os.environ["PATH"])
        elif instruction == "WORKDIR":
            image.workdir = mapped(argument)
            Path(image.workdir).mkdir(parents=True, exist_ok=True)
        elif instruction == "COPY":
            *sources, target = shlex.split(argument)
            staged = bool(sources) and sources[0].startswith("--from=")  # a file of an earlier stage
            sources = sources[1:] if staged else sources
            destination = Path(image.workdir) / target if not target.startswith("/") else Path(mapped(target))
            for source in sources:
                path = Path(mapped(source)) if staged else REPO_ROOT / source
                if path.is_dir():
                    # as Docker does: a directory's contents go into the target, never the directory itself
                    shutil.copytree(path, destination, dirs_exist_ok=True,
                                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
                else:
                    (destination if target.endswith("/") else destination.parent).mkdir(parents=True, exist_ok=True)
                    shutil.copy(path, destination / path.name if target.endswith("/") else destination)
        elif instruction == "RUN":
            steps = [s for s in re.split(r"\s&&\s", argument) if not s.strip().startswith(SYSTEM_STEPS)]
            env = {**os.environ, **image.env, **args}
            env.pop("PIP_NO_CACHE_DIR", None)  # the image's size, not its content: keep this machine's pip cache
            done = subprocess.run(["bash", "-c", mapped(" && ".join(steps))], cwd=image.workdir, env=env,
                                  capture_output=True, text=True, timeout=1200)
            assert done.returncode == 0, f"{dockerfile}: RUN {argument[:200]}\n{done.stderr[-3000:]}"
        elif instruction == "CMD":
            image.cmd = json.loads(argument)
    return final


@dataclass(frozen=True)
class Built:
    root: Path
    base: Image


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    root = tmp_path_factory.mktemp("image-root")
    base = build(DOCKER / "Dockerfile.base", root, Image(), {"VARIANT": "cpu"})
    return Built(root, base)


def _start(built: Built, name: str, stack_env: dict[str, str], logs: Path) -> subprocess.Popen[bytes]:
    image = build(DOCKER / name / "Dockerfile", built.root, Image(dict(built.base.env), [], built.base.workdir),
                  {"BASE": "conveyor/base:cpu"})
    service = "gateway" if name == "gateway" else name
    port_var = "CONVEYOR_GATEWAY_PORT" if name == "gateway" else f"{service.upper()}_PORT"
    env = {"PATH": image.env["PATH"], "HOME": str(built.root), **image.env, **stack_env,
           port_var: str(HOST_PORTS[name]), "KAFKA_TOPIC_PREFIX": "images",
           "CONVEYOR_PUBLIC_URL": f"http://127.0.0.1:{HOST_PORTS['gateway']}",
           "CONVEYOR_SIGNING_SECRET": "image-test-signing-secret-0123456789",
           **{f"CONVEYOR_UPSTREAM_{s.upper()}": f"http://127.0.0.1:{HOST_PORTS[s]}" for s in IMAGES if s != "gateway"}}
    assert image.cmd and image.cmd[0] == "python", image.cmd
    log = open(logs / f"{name}.log", "wb")  # noqa: SIM115 - handed to the child
    return subprocess.Popen(image.cmd, cwd=image.workdir, env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)


@pytest.fixture(scope="module")
def images(built: Built, stack_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    logs = tmp_path_factory.mktemp("image-logs")
    procs: dict[str, subprocess.Popen[bytes]] = {}
    try:
        for name in IMAGES:  # one by one, so an image that fails to build leaves none of the others running
            procs[name] = _start(built, name, stack_env, logs)
        for name, proc in procs.items():
            try:
                wait_healthy(f"http://127.0.0.1:{HOST_PORTS[name]}", proc, name, timeout=120)
            except RuntimeError as exc:
                pytest.fail(f"{exc}: {(logs / f'{name}.log').read_text()[-3000:]}")
        yield built
    finally:
        for proc in procs.values():
            proc.terminate()
        for proc in procs.values():
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()


def test_the_file_set_leaves_out_the_local_tooling(built: Built) -> None:
    app = Path(built.base.workdir)
    assert (app / "ingest_svc" / "__main__.py").exists() and (app / "deploy" / "gateway" / "ui").is_dir()
    assert not (app / "deploy" / "local").exists() and not (app / "tests").exists()


def test_every_image_serves_and_one_image_job_runs_through_them(images: Built, stack_env: dict[str, str]) -> None:
    python = Path(images.base.env["PATH"].split(":")[0]) / "python"
    made = subprocess.run([str(python), "-m", "deploy.admin", "workspace", "create", "images"], cwd=images.base.workdir,
                          env={"PATH": images.base.env["PATH"], **stack_env}, capture_output=True, text=True,
                          timeout=120)
    assert made.returncode == 0, made.stderr
    key = re.search(r"cvr_\S+", made.stdout)
    assert key, made.stdout + made.stderr
    api = httpx.Client(base_url=f"http://127.0.0.1:{HOST_PORTS['gateway']}", params={"api_key": key.group(0)},
                       timeout=30)
    # the gateway image built the documentation site into itself, Mermaid included
    docs = api.get("/docs/reference/rest-api/")
    assert docs.status_code == 200 and "/batch-processing/v1/external/{workspace}/jobs" in docs.text
    assert api.get("/docs/assets/vendor/mermaid.min.js").status_code == 200
    staging, jobs = "/data-staging/v1/external/images", "/batch-processing/v1/external/images"
    names = [f"img-{i}.jpg" for i in range(6)]
    for i, name in enumerate(names):
        sent = api.post(f"{staging}/batches/photos/upload/image", params={"fileName": name},
                        files={"file": (name, jpeg(i), "image/jpeg")})
        assert sent.status_code == 200, sent.text
    workflow = {"version": "1.0", "inputs": [{"type": "WorkflowImage", "name": "image"}],
                "steps": [{"type": "roboflow_core/roboflow_object_detection_model@v2", "name": "det",
                           "images": "$inputs.image", "model_id": "yolov4-tiny-coco"}],
                "outputs": [{"type": "JsonField", "name": "predictions", "selector": "$steps.det.predictions"}]}
    assert api.post("/images/workflows/detect", json={"specification": workflow}).status_code == 200
    created = api.post(f"{jobs}/jobs/img-job", json=job_body("images", "photos", "detect"))
    assert created.status_code == 200, created.text
    deadline = time.monotonic() + 180
    while (state := api.get(f"{jobs}/jobs/img-job").json()["job"])["state"] not in ("succeeded", "failed"):
        assert time.monotonic() < deadline, state
        time.sleep(0.5)
    assert state["state"] == "succeeded", state
    listed = api.get(f"{staging}/batches/img-job-export/list", params={"partName": "archives"}).json()
    assert [f["fileName"] for f in listed["filesMetadata"]] == ["results-0000.tar.gz"]
