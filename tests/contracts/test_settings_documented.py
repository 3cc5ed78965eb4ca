"""The settings page's table (docs/settings.md) and the settings classes name the same environment variables."""

import re
from pathlib import Path

from pydantic_settings import BaseSettings

from deploy.gateway.config import GatewaySettings
from export_svc.config import ExportSettings
from ingest_svc.config import IngestSettings
from notifier_svc.config import NotifierSettings
from scheduler_svc.config import SchedulerSettings
from shared.config import KafkaSettings, LogSettings, PostgresSettings, S3Settings
from worker_svc.config import WorkerSettings

SETTINGS_PAGE = Path(__file__).resolve().parents[2] / "docs" / "settings.md"
SERVICES = (IngestSettings, SchedulerSettings, WorkerSettings, ExportSettings, NotifierSettings)
FRAGMENTS = (PostgresSettings, KafkaSettings, S3Settings, LogSettings, GatewaySettings)


def variables(cls: type[BaseSettings]) -> set[str]:
    """The environment variables a settings class reads (its fragments' included)."""
    prefix = cls.model_config.get("env_prefix", "")
    found = set()
    for name, field in cls.model_fields.items():
        if name in ("postgres", "kafka", "s3", "logs"):
            annotation = field.annotation
            if isinstance(annotation, type) and issubclass(annotation, BaseSettings):
                found |= variables(annotation)
            continue
        found.add(str(field.validation_alias) if field.validation_alias else f"{prefix}{name}".upper())
    return found


def _documented() -> set[str]:
    text = SETTINGS_PAGE.read_text()
    table = text
    names: set[str] = set()
    for row in table.splitlines():
        if row.startswith("| `"):
            names |= set(re.findall(r"`([A-Z<][A-Z0-9_<>]+)`", row.split(" | ")[0]))
    expanded = set()
    for name in names:
        if name.startswith("<SERVICE>_"):
            expanded |= {f"{svc}_{name.removeprefix('<SERVICE>_')}"
                         for svc in ("INGEST", "SCHEDULER", "WORKER", "EXPORT", "NOTIFIER")}
        else:
            expanded.add(name)
    return expanded


def test_every_setting_is_on_the_settings_page_and_every_row_is_read_by_the_code() -> None:
    in_code = set().union(*(variables(c) for c in SERVICES + FRAGMENTS))
    documented = _documented()
    assert in_code - documented == set(), "settings missing from the table of docs/settings.md"
    assert documented - in_code == set(), \
        "docs/settings.md rows that no settings class reads"
