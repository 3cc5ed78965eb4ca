"""Signed links are only as safe as their secret: none is published, each installation makes its own."""

import os
import stat
from pathlib import Path

import pytest

from deploy.local.home import installation_secret
from ingest_svc.config import IngestSettings


@pytest.mark.parametrize("secret", [None, "", "short", "conveyor-dev-signing-secret",
                                    "change-me-to-a-long-random-string"])
def test_ingest_refuses_to_start_without_a_real_secret(secret: str | None) -> None:
    with pytest.raises(ValueError, match="CONVEYOR_SIGNING_SECRET must be a random string"):
        IngestSettings(signing_secret=secret)


def test_a_long_random_secret_is_accepted() -> None:
    assert IngestSettings(signing_secret="x" * 8 + "Q3v9kLm2Zp7Rt5Yw").link_secret.endswith("Yw")


def test_each_installation_makes_its_own_secret_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONVEYOR_HOME", str(tmp_path / "a"))
    first = installation_secret()
    assert installation_secret() == first and len(first) >= 32
    assert stat.S_IMODE(os.stat(tmp_path / "a" / "signing_secret").st_mode) == 0o600
    monkeypatch.setenv("CONVEYOR_HOME", str(tmp_path / "b"))
    assert installation_secret() != first


def test_processes_starting_at_once_read_one_complete_secret(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from concurrent.futures import ThreadPoolExecutor

    monkeypatch.setenv("CONVEYOR_HOME", str(tmp_path / "race"))
    with ThreadPoolExecutor(16) as pool:
        seen = set(pool.map(lambda _: installation_secret(), range(64)))
    assert len(seen) == 1 and len(seen.pop()) >= 32
    assert [p.name for p in (tmp_path / "race").iterdir()] == ["signing_secret"]  # no drafts left behind
