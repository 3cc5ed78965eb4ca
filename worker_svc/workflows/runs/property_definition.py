"""What the block does: its operations on any value (UQL)."""

from __future__ import annotations

from typing import Any

from worker_svc.workflows import uql
from worker_svc.workflows.blocks import ModelProvider


def run(_: ModelProvider, p: dict[str, Any]) -> dict[str, Any]:
    return {"output": uql.apply(p["operations"], p["data"], {})}
