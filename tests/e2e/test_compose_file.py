"""deploy/compose/docker-compose.yml, resolved by docker-compose itself (Debian's package, installed when missing:
it validates against the Compose schema without a Docker engine), agrees with the code: the same entry points,
ports and upstreams, and every service's environment is what its settings class reads (a variable nobody
reads, or a required one missing, fails)."""

from __future__ import annotations

import shutil
import subprocess

import pytest
import yaml
from pydantic_settings import BaseSettings

from deploy.gateway.config import GatewaySettings
from deploy.local.processes import SERVICES
from export_svc.config import ExportSettings
from ingest_svc.config import IngestSettings
from notifier_svc.config import NotifierSettings
from scheduler_svc.config import SchedulerSettings
from shared.config import DEFAULT_PORTS, REPO_ROOT
from tests import prepare
from tests.contracts.test_settings_documented import variables
from worker_svc.config import WorkerSettings

COMPOSE = REPO_ROOT / "deploy" / "compose" / "docker-compose.yml"
PORTS = DEFAULT_PORTS
SETTINGS: dict[str, type[BaseSettings]] = {
    "ingest": IngestSettings, "scheduler": SchedulerSettings, "worker": WorkerSettings, "worker-gpu": WorkerSettings,
    "export": ExportSettings, "notifier": NotifierSettings, "gateway": GatewaySettings,
}
# variables a service cannot start without (its settings class refuses to start)
REQUIRED = {"ingest": {"CONVEYOR_SIGNING_SECRET"}}
MODULES = {"gateway": "deploy.gateway", "worker-gpu": "worker_svc"}


@pytest.fixture(scope="module")
def docker_compose() -> str:
    """docker-compose from Debian (validates against its Compose schema without a Docker engine)."""
    prepare.debian("docker-compose")
    return shutil.which("docker-compose") or pytest.fail("docker-compose could not be installed")


def test_compose_file_validates_and_needs_a_signing_secret(docker_compose: str) -> None:
    def config(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([docker_compose, "-f", str(COMPOSE), "config", *args], capture_output=True, text=True,
                              env={"PATH": "/usr/bin:/bin", **env}, check=False)

    ok = config("-q", CONVEYOR_SIGNING_SECRET="s3cret")
    assert ok.returncode == 0, ok.stderr
    refused = config("-q")
    assert refused.returncode != 0 and "CONVEYOR_SIGNING_SECRET" in refused.stderr
    resolved = yaml.safe_load(config(CONVEYOR_SIGNING_SECRET="s3cret").stdout)
    services = resolved["services"]
    assert {"kafka", "postgres", "minio", "worker-gpu", "gateway", *SERVICES} <= set(services)
    assert "KAFKA_PROCESS_ROLES" in services["kafka"]["environment"]  # KRaft, no ZooKeeper
    for name in SERVICES:
        env = services[name]["environment"]
        assert {"DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS", "S3_ENDPOINT_URL", "AWS_ACCESS_KEY_ID"} <= set(env)
    for name, port in PORTS.items():
        if name != "gateway":
            assert services["gateway"]["environment"][f"CONVEYOR_UPSTREAM_{name.upper()}"] == f"http://{name}:{port}"
    assert services["worker-gpu"]["environment"]["WORKER_MACHINE_TYPE"] == "gpu"
    assert services["worker-gpu"]["deploy"]["resources"]["reservations"]["devices"][0]["capabilities"] == ["gpu"]


def test_every_service_reads_exactly_the_environment_compose_gives_it(docker_compose: str) -> None:
    resolved = subprocess.run([docker_compose, "-f", str(COMPOSE), "config"], capture_output=True, text=True,
                              env={"PATH": "/usr/bin:/bin", "CONVEYOR_SIGNING_SECRET": "s3cret"}, check=True)
    services = yaml.safe_load(resolved.stdout)["services"]
    for name, cls in SETTINGS.items():
        env = set(services[name]["environment"])
        unread = env - variables(cls)
        assert unread == set(), f"{name}: compose sets {sorted(unread)}, which {cls.__name__} does not read"
        assert REQUIRED.get(name, set()) <= env, f"{name} misses {REQUIRED[name] - env}"


def test_each_image_runs_its_services_production_entry_point() -> None:
    for image, module in {**{s: f"{s}_svc" for s in SERVICES}, **MODULES}.items():
        dockerfile = (REPO_ROOT / "deploy" / "docker" / image / "Dockerfile").read_text()
        assert f'CMD ["python", "-m", "{module}"]' in dockerfile, image
