"""A block of the built-in executor as the compiler sees it: its Roboflow type names, parameters (with their kinds,
see ``shared.workflows.catalogue``), aliases and outputs."""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

PER_ELEMENT_KINDS = frozenset({"image", "predictions", "data", "selectors", "predictions_list"})


@dataclass(frozen=True, kw_only=True)
class BlockSpec:
    # the block's module name, in shared/workflows/blocks/ and worker_svc/workflows/runs/: set by the catalogue
    # when it finds the module, never written by hand
    name: str = ""
    types: tuple[str, ...]
    params: dict[str, str]  # name -> kind (see above)
    required: tuple[str, ...]
    outputs: tuple[str, ...]
    defaults: dict[str, Any] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)  # alias -> parameter, as Roboflow's AliasChoices
    dimension: int = 0  # +1: outputs one per element (crops), -1: collapses a nested dimension
    flow_control: bool = False  # decides which steps run instead of producing values
    # keeps state from frame to frame of one video (trackers, counters, traces); per image on still images
    stateful: bool = False
    # keeps such state only when this parameter is set (continue_if's stop_delay)
    stateful_when: str | None = None
    # sees the values of steps that did not run (continue_if) as None instead of not running itself
    takes_skipped: bool = False
    # a parameter whose literal list of names are outputs too (json_parser's expected_fields)
    outputs_from: str | None = None
    # gives its image only to a model, which resizes it to its input size: the worker may decode the image smaller
    resizes_its_image: bool = False

    def keeps_state(self, params: dict[str, Any]) -> bool:
        """Whether a step of this block with these parameters keeps state from frame to frame (a selector for
        ``stateful_when`` counts as set: it may be)."""
        return self.stateful or bool(self.stateful_when and params.get(self.stateful_when))

    def aliases_of(self, param: str) -> list[str]:
        """The other names Roboflow accepts for a parameter."""
        return [alias for alias, canonical in self.aliases.items() if canonical == param]

    def outputs_of(self, params: dict[str, Any]) -> tuple[str, ...]:
        named = params.get(self.outputs_from) if self.outputs_from else None
        return (*self.outputs, *named) if isinstance(named, list) else self.outputs


def literal(step: dict[str, Any], key: str, default: Any = None) -> Any:
    """The step's literal value of ``key`` (``default`` when absent), or None for a selector, known only when the
    job runs."""
    value = step.get(key, default)
    return None if isinstance(value, str) and value.startswith("$") else value


def types_of(block: str, versions: tuple[int, ...], *legacy: str) -> tuple[str, ...]:
    return (*(f"roboflow_core/{block}@v{v}" for v in versions), *legacy)


def block_modules(package: ModuleType) -> list[tuple[str, ModuleType]]:
    """Each module of a block folder (``shared/workflows/blocks``, ``worker_svc/workflows/runs``) with the block
    name it gives, in name order: the folders are read, never listed."""
    found = sorted(info.name for info in pkgutil.iter_modules(package.__path__))
    return [(name, importlib.import_module(f"{package.__name__}.{name}")) for name in found]
