"""Where the local deployment keeps its state, and how the CLI finds the stack's environment."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from deploy.local.stack import LocalStack

STACK_VARS = ("DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS", "S3_ENDPOINT_URL")


def home() -> Path:
    return Path(os.environ.get("CONVEYOR_HOME", ".devstack")).resolve()


def installation_secret(name: str = "signing_secret") -> str:
    """A secret of this installation (the link signing secret, the metrics token), made once (random, readable
    by its owner only). Written to a file of its own and linked into place, so processes starting at once all
    read the one complete secret."""
    path = home() / name
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    draft = path.with_name(f".{name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(secrets.token_urlsafe(32))
    try:
        os.link(draft, path)  # atomic, and refused if another process published first
    except FileExistsError:
        pass
    finally:
        draft.unlink()
    return path.read_text().strip()


def export_installation_secrets() -> None:
    """This installation's link-signing secret and metrics token into the environment every process of this
    home starts with (what the environment sets already wins)."""
    os.environ.setdefault("CONVEYOR_SIGNING_SECRET", installation_secret())
    os.environ.setdefault("CONVEYOR_METRICS_TOKEN", installation_secret("metrics_token"))


def local_stack(kafka_storage: str = "s3") -> LocalStack:
    return LocalStack(base=home(), port_base=int(os.environ.get("CONVEYOR_PORT_BASE", "20000")),
                      kafka_storage=kafka_storage)


def stack_from_environment() -> bool:
    return all(os.environ.get(k) for k in STACK_VARS)


def load_stack_env() -> bool:
    """Export the recorded stack's variables into this process (never overriding what is set)."""
    if stack_from_environment():
        return True
    env_file = home() / "env"
    if not env_file.exists():
        return False
    for line in env_file.read_text().splitlines():
        if line.startswith("export ") and "=" in line:
            key, value = line[len("export "):].split("=", 1)
            os.environ.setdefault(key, value)
    return True
