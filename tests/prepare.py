"""``python -m tests.prepare``: the heavy environments the test tiers use beyond ``.venv``, made before the tests
run (``.ci/run`` and the README's test command do it), so that no test's time is an installation's:

* Debian's packages: Chromium (the UI and docs in a browser), docker-compose (the compose file's own schema),
  iproute2 (hosts in network namespaces), Go with sprig and yaml.v3 (the Helm chart rendered with Helm's engine);
* ``.venv-cli``: Roboflow's real inference-cli, for the compatibility suite;
* ``.venv-inference``: Roboflow's Workflows Execution Engine, installed once per machine and linked.

Each step does nothing when its environment is ready; the fixtures call the same steps, so a test run alone on a
machine that skipped this still finds what it needs."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from shared.config import REPO_ROOT

INFERENCE_CLI = "inference-cli[cloud-storage]==1.8.3"
CLI_VENV = REPO_ROOT / ".venv-cli"
ENGINE_VENV = REPO_ROOT / ".venv-inference"
GO_SOURCES = Path("/usr/share/gocode/src")
# Debian package -> what shows it is there
DEBIAN = {"chromium": "chromium", "docker-compose": "docker-compose", "iproute2": "ip", "golang-go": "go",
          "golang-github-masterminds-sprig-dev": str(GO_SOURCES / "github.com/Masterminds/sprig"),
          "golang-gopkg-yaml.v3-dev": str(GO_SOURCES / "gopkg.in/yaml.v3")}


def _present(probe: str) -> bool:
    return Path(probe).exists() if probe.startswith("/") else shutil.which(probe) is not None


def debian(*packages: str) -> None:
    """Install those of ``packages`` (keys of ``DEBIAN``) that are missing."""
    missing = [p for p in packages if not _present(DEBIAN[p])]
    if missing:
        subprocess.run(["apt-get", "install", "-y", "-q", "--no-install-recommends", *missing], check=True,
                       capture_output=True, timeout=1200, env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})


def inference_cli() -> Path:
    """The real Roboflow client in its own virtual environment."""
    marker = CLI_VENV / f".{INFERENCE_CLI}"
    if not marker.exists():
        subprocess.run([sys.executable, "-m", "venv", str(CLI_VENV)], check=True)
        subprocess.run([str(CLI_VENV / "bin" / "python"), "-m", "pip", "install", "-q", INFERENCE_CLI], check=True,
                       timeout=900)
        marker.touch()
    return CLI_VENV / "bin" / "inference"


def engine_python() -> Path:
    """Roboflow's engine's interpreter (``deploy/local/inference-venv.sh`` is idempotent and quick when done)."""
    subprocess.run(["bash", str(REPO_ROOT / "deploy" / "local" / "inference-venv.sh")], check=True, timeout=1500,
                   capture_output=True)
    return ENGINE_VENV / "bin" / "python"


def main() -> None:
    if os.geteuid() == 0 and shutil.which("apt-get"):
        debian(*DEBIAN)
    else:
        print("not root: Debian's packages are left to the tests that need them", file=sys.stderr)
    inference_cli()
    engine_python()
    print(f"test environments ready: {', '.join(DEBIAN)}, {CLI_VENV.name}, {ENGINE_VENV.name}")


if __name__ == "__main__":
    main()
