"""What the block does: keeps the predictions that pass its operations (UQL, with named parameters)."""

from __future__ import annotations

from typing import Any

from worker_svc.workflows import uql
from worker_svc.workflows.blocks import ModelProvider


def run(_: ModelProvider, p: dict[str, Any]) -> dict[str, Any]:
    return {"predictions": uql.apply(p["operations"], p["predictions"], p["operations_parameters"])}
