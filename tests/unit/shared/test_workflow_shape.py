"""A definition of the wrong shape is refused with where and why, by both backends' planners: every field of a
real definition, in turn, replaced by values of every other JSON kind."""

import contextlib
import copy
from collections.abc import Iterator
from typing import Any

import pytest

from shared.workflows.errors import WorkflowInvalid
from shared.workflows.plans import plan_workflow
from tests.fixtures.workflows import detect_workflow

WRONG: list[Any] = [5, "x", None, [], {}, [5], ["x"], [None], {"a": 1}, True, 1.5]


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else []
    for key, item in items:
        yield from _paths(item, (*prefix, key))


def _replaced(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    copied = copy.deepcopy(value)
    at = copied
    for key in path[:-1]:
        at = at[key]
    at[path[-1]] = new
    return copied


@pytest.mark.parametrize("backend", ["builtin", "inference"])
def test_every_field_of_the_wrong_kind_is_a_clear_refusal_or_runs(backend: str) -> None:
    base = detect_workflow(visualise=True)
    tried = 0
    for path in _paths(base):
        for wrong in WRONG:
            with contextlib.suppress(WorkflowInvalid):  # a 400 with the reason; anything else would be a 500
                plan_workflow(_replaced(base, path, wrong), backend)
            tried += 1
    assert tried == 42 * len(WRONG)  # every field of the definition, the root included


@pytest.mark.parametrize(("spec", "reason"), [
    ({"inputs": 5, "steps": [], "outputs": []}, "inputs is a list, not a number"),
    ("x", "a workflow definition is a JSON object, not a string"),
    ({"inputs": [], "steps": [{"type": 5, "name": "s"}], "outputs": []}, "steps[0].type is a string, not a number"),
    ({"inputs": [], "steps": [{"type": "x"}], "outputs": []}, "steps[0].name is a string, not null"),
    ({"inputs": [], "steps": [], "outputs": ["x"]}, "outputs[0] is an object, not a string"),
])
def test_the_refusal_says_where(spec: Any, reason: str) -> None:
    with pytest.raises(WorkflowInvalid, match=reason.replace("[", r"\[").replace("]", r"\]")):
        plan_workflow({"specification": spec}, "builtin")
