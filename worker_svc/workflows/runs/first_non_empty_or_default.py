"""What Roboflow's ``roboflow_core/first_non_empty_or_default@v1`` does, as the built-in executor runs it."""

from __future__ import annotations

from typing import Any


def run(_: Any, p: dict[str, Any]) -> dict[str, Any]:
    """The first of ``data`` that is not empty (None: its branch did not run), else ``default``."""
    return {"output": next((value for value in p["data"] if value is not None), p["default"])}
