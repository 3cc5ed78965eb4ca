"""Where a step's data comes from, as Roboflow's compiler tracks it, and what it refuses on that account.

A value is either one for the whole run (a parameter, or a step fed only parameters) or one per element of a batch:
per image, per crop of an image, per crop of a crop. The lineage of per-element data names the steps that opened
each nested dimension: the image's data is ``(<input>,)``, a crop's ``(<input>, crop step)``. Roboflow refuses, and
so does the built-in compiler, a step whose inputs come from unrelated crops (they could never be paired), a step
gated by a decision made on other crops than its data (it would never run), and per-image data in a parameter that
takes one value for the whole run (a ``WorkflowBatchInput`` as a model's confidence).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from shared.workflows.errors import WorkflowInvalid
from shared.workflows.kinds import scalar_only

if TYPE_CHECKING:
    from shared.workflows.compiler import Step

Lineage = tuple[str, ...]
INPUT: Lineage = ("<input>",)
_REFUSED = "; Roboflow's compiler refuses it too"


def check_lineage(order: list[str], steps: dict[str, Step], per_image_inputs: set[str],
                  gates: dict[str, list[str]], selectors: Callable[[Any], list[str]]) -> None:
    """Raise WorkflowInvalid where Roboflow's compiler would find a lineage conflict. ``order`` is topological;
    ``per_image_inputs`` the inputs with a value per image (the image, batch inputs, video metadata); ``gates``
    maps a step to the flow-control steps deciding whether it runs."""
    of_step: dict[str, Lineage | None] = {}
    for name in order:
        step = steps[name]
        found: list[Lineage] = []
        for key, value in step.raw.items():
            if key in ("type", "name") or step.block.params.get(key) == "steps":
                continue
            lineages = _distinct(_lineage(s, per_image_inputs, of_step) for s in selectors(value))
            if lineages and scalar_only(step.raw["type"], [key, *step.block.aliases_of(key)]):
                raise WorkflowInvalid(f"step {name!r} parameter {key!r} takes one value for the whole run, but "
                                      f"{value!r} gives one per image (or per crop){_REFUSED}")
            if len(lineages) > 1 and isinstance(value, list | dict):
                raise WorkflowInvalid(f"step {name!r} parameter {key!r} gathers data of different crops "
                                      f"({_describe(lineages)}), which cannot be paired{_REFUSED}")
            found += lineages
        found = _distinct(found)
        _check_inputs(name, found)
        for decider in gates.get(name, []):
            decided_on = of_step.get(decider)
            if found and decided_on is not None and decided_on not in _prefixes(found):
                raise WorkflowInvalid(f"step {name!r} runs on {_describe([max(found, key=len)])}, but step "
                                      f"{decider!r} decides whether it runs from {_describe([decided_on])}: it "
                                      f"would never run{_REFUSED}")
        own = max(found, key=len) if found else None
        if own is not None and step.block.dimension > 0:
            own = (*own, name)
        elif own is not None and step.block.dimension < 0:
            own = own[:-1]
        of_step[name] = own


def _lineage(selector: str, per_image_inputs: set[str], of_step: dict[str, Lineage | None]) -> Lineage | None:
    scope, _, rest = selector.removeprefix("$").partition(".")
    source = rest.split(".", 1)[0]
    if scope == "inputs":
        return INPUT if source in per_image_inputs else None
    return of_step.get(source)


def _distinct(lineages: Any) -> list[Lineage]:
    return list(dict.fromkeys(lineage for lineage in lineages if lineage is not None))


def _prefixes(lineages: list[Lineage]) -> set[Lineage]:
    return {lineage[:n] for lineage in lineages for n in range(1, len(lineage) + 1)}


def _check_inputs(name: str, lineages: list[Lineage]) -> None:
    """At most two depths; one lineage per depth; the shallower one the deeper one's parent."""
    by_depth: dict[int, list[Lineage]] = {}
    for lineage in lineages:
        by_depth.setdefault(len(lineage), []).append(lineage)
    if any(len(same) > 1 for same in by_depth.values()) or len(by_depth) > 2:
        raise WorkflowInvalid(f"step {name!r} takes data of different crops ({_describe(lineages)}), which "
                              f"cannot be paired{_REFUSED}")
    if len(by_depth) == 2:
        shallow, deep = (by_depth[d][0] for d in sorted(by_depth))
        if deep[:-1] != shallow:
            raise WorkflowInvalid(f"step {name!r} takes data of different crops ({_describe(lineages)}), which "
                                  f"cannot be paired{_REFUSED}")


def _describe(lineages: list[Lineage]) -> str:
    return " and ".join("the image" if lineage == INPUT else "crops of " + " / ".join(lineage[1:])
                        for lineage in lineages)
