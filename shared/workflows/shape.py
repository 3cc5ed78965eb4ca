"""The skeleton every Workflow definition has, checked before either backend reads it: a definition of the
wrong shape is a 400 that says where, never a crash of the compiler (a list where a step's ``type`` belongs
once answered 500)."""

from __future__ import annotations

from typing import Any

from shared.workflows.errors import WorkflowInvalid

SECTIONS = ("inputs", "steps", "outputs")


def check_shape(definition: Any) -> None:
    """``inputs``, ``steps`` and ``outputs`` are lists of objects, each with a string ``name``; every ``type``
    anywhere in it (inputs, steps, outputs, operations, operands) is a string."""
    if not isinstance(definition, dict):
        raise WorkflowInvalid(f"a workflow definition is a JSON object, not {_kind(definition)}")
    for section in SECTIONS:
        items = definition.get(section, [])
        if not isinstance(items, list):
            raise WorkflowInvalid(f"{section} is a list, not {_kind(items)}")
        for i, item in enumerate(items):
            if not isinstance(item, dict):
                raise WorkflowInvalid(f"{section}[{i}] is an object, not {_kind(item)}")
            if not isinstance(item.get("name"), str):
                raise WorkflowInvalid(f"{section}[{i}].name is a string, not {_kind(item.get('name'))}")
    _types_are_strings(definition, "")


def _types_are_strings(value: Any, where: str) -> None:
    if isinstance(value, dict):
        if "type" in value and not isinstance(value["type"], str):
            raise WorkflowInvalid(f"{where or 'the definition'}.type is a string, not {_kind(value['type'])}")
        for key, item in value.items():
            _types_are_strings(item, f"{where}.{key}" if where else str(key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _types_are_strings(item, f"{where}[{i}]")


def _kind(value: Any) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean", int: "a number",
             float: "a number", type(None): "null"}
    return names.get(type(value), type(value).__name__)
