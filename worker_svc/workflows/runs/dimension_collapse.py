"""What the block does: one list of the values of a nested dimension (one per crop)."""

from __future__ import annotations

from typing import Any

from worker_svc.workflows.blocks import ModelProvider
from worker_svc.workflows.values import Batch


def run(_: ModelProvider, p: dict[str, Any]) -> dict[str, Any]:
    data = p["data"]
    if isinstance(data, Batch) and data and all(isinstance(e, Batch) for e in data):
        return {"output": Batch(list(e) for e in data)}  # crops of crops: one list per crop
    return {"output": list(data) if isinstance(data, Batch) else [data]}
