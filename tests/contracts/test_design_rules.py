"""The rules that keep the design readable, checked on the code itself: the import contracts (import-linter,
``[tool.importlinter]``), the type check (mypy, ``[tool.mypy]``), where the environment is read, and that
shared/ holds only what is shared."""

from __future__ import annotations

import ast
import fnmatch
import subprocess
import sys
from pathlib import Path

from shared.config import REPO_ROOT

PRODUCTION = ("shared", "conveyor_client", "ingest_svc", "scheduler_svc", "worker_svc", "export_svc", "notifier_svc",
              "deploy")
# where the process environment may be read: settings classes, deployment code, the CLI (a client configured
# by its environment), and the engine protocol, which hands the environment to the engine's own interpreter
# shared/images.py writes OpenCV's pixel limit, which OpenCV reads from the environment alone
ENVIRONMENT_READERS = ("shared/config.py", "*/config.py", "deploy/*", "conveyor_client/*",
                       "shared/workflows/roboflow_engine.py", "shared/images.py")


def _python_files(*packages: str) -> list[Path]:
    return sorted(p for package in packages for p in (REPO_ROOT / package).rglob("*.py"))


def _reads_environment(tree: ast.AST) -> list[int]:
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "os" \
                and node.attr in ("environ", "getenv", "putenv", "environb"):
            lines.append(node.lineno)
    return lines


def test_the_environment_is_read_only_in_settings_and_deployment_code() -> None:
    offenders = []
    for path in _python_files(*PRODUCTION):
        relative = path.relative_to(REPO_ROOT)
        if any(fnmatch.fnmatch(str(relative), pattern) for pattern in ENVIRONMENT_READERS):
            continue
        offenders += [f"{relative}:{line}" for line in _reads_environment(ast.parse(path.read_text()))]
    assert offenders == [], "os.environ outside the settings classes and deployment code"


def test_the_check_sees_a_read_of_the_environment() -> None:
    assert sorted(_reads_environment(ast.parse("import os\nx = os.environ.get('A')\ny = os.getenv('B')"))) == [2, 3]


def test_import_contracts_hold() -> None:
    result = subprocess.run([str(Path(sys.executable).with_name("lint-imports"))], cwd=REPO_ROOT,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "0 broken" in result.stdout


def test_mypy_passes_on_the_whole_tree() -> None:
    result = subprocess.run([sys.executable, "-m", "mypy"], cwd=REPO_ROOT, capture_output=True, text=True,
                            timeout=900)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]


def test_ruff_passes_on_the_whole_tree() -> None:
    result = subprocess.run([str(Path(sys.executable).with_name("ruff")), "check", "."], cwd=REPO_ROOT,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]


def _lines(*packages: str) -> int:
    return sum(len(p.read_text().splitlines()) for p in _python_files(*packages))


def test_shared_holds_well_under_two_fifths_of_the_production_code() -> None:
    shared, everything = _lines("shared"), _lines(*PRODUCTION)
    assert shared / everything < 0.38, f"shared/ is {shared} of {everything} production lines"
