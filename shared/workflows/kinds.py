"""Roboflow's kinds: what each block's parameters take and its outputs give, and which parameters take one value
for the whole run (``roboflow_kinds.json``, generated from the pinned engine by ``shared.workflows.engine_kinds``).
The built-in compiler refuses a step output plugged into a parameter whose kinds it shares none of, as Roboflow's
compiler does (an OCR result used as detections to crop)."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from shared.workflows.errors import WorkflowInvalid

TABLE = Path(__file__).with_name("roboflow_kinds.json")
ANY = "*"


@functools.cache
def _blocks() -> dict[str, Any]:
    blocks: dict[str, Any] = json.loads(TABLE.read_text())["blocks"]
    return blocks


def taken(block_type: str, names: list[str]) -> set[str] | None:
    """The kinds a parameter (under any of its names) takes, or None when Roboflow's manifest does not say."""
    inputs = _blocks().get(block_type, {}).get("inputs", {})
    return next((set(inputs[n]) for n in names if n in inputs), None)


def required(block_type: str) -> set[str] | None:
    """The fields Roboflow's manifest of a block requires, or None for a block it does not have."""
    block = _blocks().get(block_type)
    return None if block is None else set(block.get("required", []))


def runs_models(block_type: str) -> bool:
    """Whether the block needs a model to run (Roboflow's engine asks its models provider for one)."""
    return bool(_blocks().get(block_type, {}).get("runs_models"))


def scalar_only(block_type: str, names: list[str]) -> bool:
    """Whether a parameter (under any of its names) takes one value for the whole run, never one per image."""
    refused = _blocks().get(block_type, {}).get("scalar_only", [])
    return any(n in refused for n in names)


def given(block_type: str, output: str) -> set[str] | None:
    """The kinds an output gives, or None when Roboflow's manifest does not say."""
    outputs = _blocks().get(block_type, {}).get("outputs", {})
    if output == ANY:
        return None
    kinds = outputs.get(output, outputs.get(ANY))
    return set(kinds) if kinds is not None else None


def check_connection(where: str, block_type: str, names: list[str], source_type: str, output: str,
                     selector: str) -> None:
    accepted, produced = taken(block_type, names), given(source_type, output)
    if accepted is None or produced is None or ANY in accepted or ANY in produced or accepted & produced:
        return
    raise WorkflowInvalid(f"{where}: {selector} gives {', '.join(sorted(produced))}, which this parameter does not "
                          f"take ({', '.join(sorted(accepted))}); Roboflow's compiler refuses it too")
