"""Local process layout: CONVEYOR_<SERVICE>_PROCESSES processes of a service, each on its own port."""

import pytest

from deploy.local.processes import SERVICES, process_names, service_port


def test_extra_worker_processes_get_names_and_ports_of_their_own(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONVEYOR_SERVICE_PORT_BASE", "8100")
    monkeypatch.setenv("CONVEYOR_WORKER_PROCESSES", "3")
    monkeypatch.setenv("CONVEYOR_INGEST_PROCESSES", "2")
    monkeypatch.setenv("CONVEYOR_SCHEDULER_PROCESSES", "2")  # one scheduler: it is not scaled this way
    names = process_names(list(SERVICES))
    assert names == ["ingest", "ingest-2", "scheduler", "worker", "worker-2", "worker-3", "export", "notifier"]
    ports = [service_port(n) for n in names]
    assert len(set(ports)) == len(ports)
    assert service_port("worker") == 8103 and service_port("worker-2") == 8113 and service_port("worker-3") == 8123


def test_one_process_per_service_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CONVEYOR_WORKER_PROCESSES", raising=False)
    assert process_names(["worker", "export"]) == ["worker", "export"]
