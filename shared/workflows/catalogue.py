"""The catalogue of the built-in executor's Roboflow Workflow blocks: for every block, the type names it answers
to (every version and alias Roboflow accepts), its parameters with their kinds and aliases, what it requires and
what it outputs — Roboflow's manifests, so that definitions saved in Roboflow's editor compile unchanged.

A block is one module of ``shared/workflows/blocks/`` (its ``SPECS``, one per group of versions that run alike,
and, where Roboflow's manifest constrains literal parameters, its ``check``) and one module of the same name in
``worker_svc/workflows/runs/`` (what it does). Both folders are read, never listed: a new block adds its two files
and edits none. This is what a definition is compiled against (by the scheduler when a job or workflow is saved,
and by the worker before it runs one); it imports no image library, so the scheduler can compile.

Parameter kinds:
  ``image``        an image (the input image, a crop)
  ``predictions``  a model's or a transformation's output
  ``data``         any value taken from inputs or steps
  ``value``        a literal or a parameter (``$inputs.x``)
  ``selectors``    an object whose values are selectors (``evaluation_parameters``, ``data``)
  ``predictions_list``  a list of selectors (several models' outputs, or any values)
  ``steps``        a list of step selectors (``$steps.name``), flow control only
  ``collapse``     a value of a nested dimension (one per crop) that the block takes whole
  ``metadata``     a ``WorkflowVideoMetadata`` input: the frame's video, number and time (video blocks)
A step fed a value of a nested dimension (one per crop) through an ``image``/``predictions``/``data``/``selectors``
parameter runs once per element; ``dimension`` says how the block changes the dimension of its outputs.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from shared.workflows import blocks, uql
from shared.workflows.blockspec import BlockSpec, block_modules
from shared.workflows.errors import WorkflowInvalid

Check = Callable[[dict[str, Any], BlockSpec, str], None]


def _discover() -> tuple[list[BlockSpec], dict[str, Check]]:
    """Every block module's specs, named after their module, and the checks of those that have one."""
    specs: list[BlockSpec] = []
    checks: dict[str, Check] = {}
    for name, module in block_modules(blocks):
        specs += [dataclasses.replace(spec, name=name) for spec in module.SPECS]
        if hasattr(module, "check"):
            checks[name] = module.check
    return specs, checks


CATALOGUE, CHECKS = _discover()
BY_TYPE: dict[str, BlockSpec] = {t: b for b in CATALOGUE for t in b.types}


def canonical_params(step: dict[str, Any], block: BlockSpec) -> dict[str, Any]:
    """The step with Roboflow's parameter aliases (``image`` for ``images``, ...) under their parameter's name."""
    out = dict(step)
    for alias, name in block.aliases.items():
        if alias in out:
            value = out.pop(alias)
            out.setdefault(name, value)
    return out


def check_block_params(step: dict[str, Any], block: BlockSpec) -> None:
    """Static checks of a step's literal parameters (aliases already resolved)."""
    name = step.get("name")
    where = f"step {name!r} ({step['type']})"
    for required in block.required:
        if required not in step:
            also = [a for a, n in block.aliases.items() if n == required]
            raise WorkflowInvalid(f"{where} is missing {required!r}" + (f" (or {also[0]!r})" if also else ""))
    for key, kind in block.params.items():
        if kind == "selectors" and key in step and not isinstance(step[key], dict):
            raise WorkflowInvalid(f"{where}: {key!r} must be an object of selectors")
        if kind == "predictions_list" and key in step and (not isinstance(step[key], list) or not step[key]):
            raise WorkflowInvalid(f"{where}: {key!r} must be a non-empty list of selectors")
    if isinstance(step.get("operations"), list | dict):
        uql.check_operations(step["operations"], where)
    if "confidence_mode" in step and step["confidence_mode"] not in ("best", "default", "custom") \
            and not str(step["confidence_mode"]).startswith("$"):
        raise WorkflowInvalid(f"{where}: confidence_mode must be 'best', 'default' or 'custom'")
    check = CHECKS.get(block.name)
    if check is not None:
        check(step, block, where)
