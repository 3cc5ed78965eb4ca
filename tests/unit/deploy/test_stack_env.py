"""The recorded stack's environment reaches every local process, and what the user set wins over it."""

import os
from pathlib import Path

import pytest

from deploy.local.home import STACK_VARS, load_stack_env
from deploy.local.stack import TANSU_FETCH_MAX_WAIT_MS


def test_the_stack_environment_fills_what_is_unset_and_leaves_what_the_user_set(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONVEYOR_HOME", str(tmp_path))
    for name in (*STACK_VARS, "KAFKA_FETCH_MAX_WAIT_MS"):
        monkeypatch.setenv(name, "")  # so that monkeypatch puts back what was there, whatever is set below
        monkeypatch.delenv(name)
    (tmp_path / "env").write_text("export KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:1\n"
                                  f"export KAFKA_FETCH_MAX_WAIT_MS={TANSU_FETCH_MAX_WAIT_MS}\n")
    assert load_stack_env()
    assert os.environ["KAFKA_FETCH_MAX_WAIT_MS"] == "50" and os.environ["KAFKA_BOOTSTRAP_SERVERS"] == "127.0.0.1:1"
    monkeypatch.setenv("KAFKA_FETCH_MAX_WAIT_MS", "500")
    monkeypatch.delenv("KAFKA_BOOTSTRAP_SERVERS")
    assert load_stack_env()
    assert os.environ["KAFKA_FETCH_MAX_WAIT_MS"] == "500"  # the user's, kept
