"""The engine backend keeps the last KEEP_WORKFLOWS workflows it compiled in its host, and compiles again one it
dropped: both sides of that edge, with the host's load counted (no engine process is started)."""

import asyncio
from typing import Any

from worker_svc.backends import KEEP_WORKFLOWS, EngineBackend
from worker_svc.config import WorkerSettings


def _spec(i: int) -> dict[str, Any]:
    return {"version": "1.0", "inputs": [{"type": "WorkflowImage", "name": "image"}], "steps": [],
            "outputs": [{"type": "JsonField", "name": f"out{i}", "selector": "$inputs.image"}]}


def test_the_backend_keeps_its_last_workflows_and_compiles_a_dropped_one_again() -> None:
    backend = EngineBackend(WorkerSettings(), models=None)  # type: ignore[arg-type]
    loads: list[str] = []

    def load(spec: dict[str, Any], files: dict[str, Any]) -> str:
        loads.append(spec["outputs"][0]["name"])
        return spec["outputs"][0]["name"]

    backend.host.load = load  # type: ignore[method-assign,assignment]

    async def ask(*indices: int) -> None:
        for i in indices:
            await backend._workflow(_spec(i), {})

    asyncio.run(ask(*range(KEEP_WORKFLOWS), *range(KEEP_WORKFLOWS)))  # as many as it keeps, each asked twice
    assert len(loads) == KEEP_WORKFLOWS
    asyncio.run(ask(KEEP_WORKFLOWS))  # one more drops the least recently asked: workflow 0
    asyncio.run(ask(*range(1, KEEP_WORKFLOWS + 1)))
    assert len(loads) == KEEP_WORKFLOWS + 1
    asyncio.run(ask(0))
    assert loads[-1] == "out0" and len(loads) == KEEP_WORKFLOWS + 2
