"""Local process layout: CONVEYOR_WORKERS worker processes, each on its own port."""

import pytest

from shared.cli.processes import SERVICES, process_names, service_port


def test_extra_worker_processes_get_names_and_ports_of_their_own(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONVEYOR_SERVICE_PORT_BASE", "8100")
    monkeypatch.setenv("CONVEYOR_WORKERS", "3")
    names = process_names(list(SERVICES))
    assert names == ["ingest", "scheduler", "worker", "worker-2", "worker-3", "export", "notifier"]
    ports = [service_port(n) for n in names]
    assert len(set(ports)) == len(ports)
    assert service_port("worker") == 8103 and service_port("worker-2") == 8113 and service_port("worker-3") == 8123


def test_one_worker_process_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CONVEYOR_WORKERS", raising=False)
    assert process_names(["worker", "export"]) == ["worker", "export"]
