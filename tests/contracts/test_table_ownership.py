"""Each table has one owning service, named at the top of the migration that creates it, and only the owner's
code writes it (the shared batch store is the owner's, written through ``shared/staging.py``); a table that is
neither the batch store nor the platform's is read by its owner alone: others learn through events, or through
what the owner keeps on the batch store (a batch still being staged)."""

from __future__ import annotations

import fnmatch
import re
from pathlib import Path

from shared.config import REPO_ROOT

MIGRATIONS = REPO_ROOT / "shared" / "migrations"
# the code that may write each owner's tables
WRITERS = {
    "platform": ("shared/auth.py", "shared/outbox.py", "shared/migrations.py", "shared/idempotency.py"),
    "ingest_svc": ("ingest_svc/*",),
    "scheduler_svc": ("scheduler_svc/*",),
    "notifier_svc": ("notifier_svc/*",),
}
BATCH_STORE = ("batches", "batch_parts", "files", "file_metadata")  # written through shared/staging.py too
_OWNED = re.compile(r"^-- Owned by (\S+): (.+?)\.?$", re.MULTILINE)
_WRITE = re.compile(r"\b(?:INSERT INTO|UPDATE|DELETE FROM)\s+([a-z_]+)\b")
_READ = re.compile(r"\b(?:FROM|JOIN)\s+([a-z_]+)\b")
PACKAGES = ("shared", "conveyor_client", "ingest_svc", "scheduler_svc", "worker_svc", "export_svc", "notifier_svc",
            "deploy")


def owners() -> dict[str, str]:
    found: dict[str, str] = {}
    for path in sorted(MIGRATIONS.glob("*.sql")):
        text = path.read_text()
        named = {table.strip(): owner for owner, tables in _OWNED.findall(text) for table in tables.split(",")}
        for table in re.findall(r"CREATE TABLE (?:IF NOT EXISTS )?([a-z_]+)", text):
            assert table in named, f"{path.name} creates {table} without naming its owner"
            assert table not in found, f"{table} created twice"
            found[table] = named[table]
    return found


def _uses(pattern: re.Pattern[str]) -> dict[str, set[str]]:
    by_table: dict[str, set[str]] = {}
    for package in PACKAGES:
        for path in (REPO_ROOT / package).rglob("*.py"):
            for table in pattern.findall(path.read_text()):
                by_table.setdefault(table, set()).add(str(path.relative_to(REPO_ROOT)))
    return by_table


def _writes() -> dict[str, set[str]]:
    return _uses(_WRITE)


def test_every_table_names_one_known_owner() -> None:
    found = owners()
    assert set(found.values()) <= set(WRITERS)
    assert {"tasks", "jobs", "files", "shards", "outbox", "deliveries", "webhook_signing"} <= set(found)


def test_only_the_owner_writes_a_table() -> None:
    found = owners()
    for table, files in _writes().items():
        if table not in found:
            continue  # a word after UPDATE that is no table (e.g. ON CONFLICT ... DO UPDATE SET)
        allowed = WRITERS[found[table]] + (("shared/staging.py",) if table in BATCH_STORE else ())
        strangers = {f for f in files if not any(fnmatch.fnmatch(f, pattern) for pattern in allowed)}
        assert strangers == set(), f"{table} (owned by {found[table]}) is written by {sorted(strangers)}"


def test_only_the_owner_reads_a_private_table() -> None:
    found = owners()
    for table, files in _uses(_READ).items():
        if table not in found or table in BATCH_STORE or found[table] == "platform":
            continue  # not a table (FROM in prose), or one every service may read
        strangers = {f for f in files if not any(fnmatch.fnmatch(f, p) for p in WRITERS[found[table]])}
        assert strangers == set(), f"{table} (owned by {found[table]}) is read by {sorted(strangers)}"
    assert "ingest_svc/repository.py" in _uses(_READ)["shards"]  # the scan sees reads


def test_the_scan_finds_the_writes_it_must() -> None:
    writes = _writes()
    assert "scheduler_svc/repository.py" in writes["tasks"] and "shared/staging.py" in writes["files"]
    assert Path(REPO_ROOT / "ingest_svc" / "repository.py").exists() and "ingest_svc/repository.py" in writes["shards"]
