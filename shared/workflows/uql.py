"""The subset of Roboflow's query language (UQL) used by ``detections_filter`` and ``property_definition``.

Supported operations: ``DetectionsFilter`` (a ``StatementGroup`` of ``BinaryStatement``s over
``ExtractDetectionProperty`` operands), ``SequenceLength``, ``DetectionsPropertyExtract``,
``ClassificationPropertyExtract``, ``DetectionsSelection`` (first/last/left-most/...) and
``SortDetections``. Anything else is refused when the workflow is saved, not when it runs.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

from shared.errors import InvalidInput
from shared.workflows.errors import WorkflowInvalid
from shared.workflows.values import Classification, Detections

_DETECTION_PROPERTIES: dict[str, Callable[[dict[str, Any]], Any]] = {
    "class_name": lambda d: d["class"],
    "class_id": lambda d: d["class_id"],
    "confidence": lambda d: d["confidence"],
    "x_min": lambda d: d["x"] - d["width"] / 2,
    "y_min": lambda d: d["y"] - d["height"] / 2,
    "x_max": lambda d: d["x"] + d["width"] / 2,
    "y_max": lambda d: d["y"] + d["height"] / 2,
    "center": lambda d: (d["x"], d["y"]),
    "size": lambda d: d["width"] * d["height"],
    "width": lambda d: d["width"],
    "height": lambda d: d["height"],
}

_COMPARATORS: dict[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq, "(Number) ==": operator.eq, "(String) ==": operator.eq,
    "!=": operator.ne, "(Number) !=": operator.ne, "(String) !=": operator.ne,
    "(Number) >": operator.gt, "(Number) >=": operator.ge, "(Number) <": operator.lt, "(Number) <=": operator.le,
    ">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le,
    "in (Sequence)": lambda a, b: a in b, "not in (Sequence)": lambda a, b: a not in b,
    "(String) startsWith": lambda a, b: str(a).startswith(b), "(String) endsWith": lambda a, b: str(a).endswith(b),
    "(String) contains": lambda a, b: b in str(a),
}


def _operand(spec: dict[str, Any], detection: dict[str, Any], params: dict[str, Any]) -> Any:
    kind = spec.get("type")
    if kind == "StaticOperand":
        return spec.get("value")
    if kind == "DynamicOperand":
        name = spec.get("operand_name", "_")
        value: Any = detection if name == "_" else params.get(name)
        for op in spec.get("operations", []):
            if op.get("type") == "ExtractDetectionProperty":
                value = _DETECTION_PROPERTIES[op["property_name"]](value)
            else:
                raise InvalidInput(f"unsupported operand operation {op.get('type')!r}")
        return value
    raise InvalidInput(f"unsupported operand type {kind!r}")


def _statement(spec: dict[str, Any], detection: dict[str, Any], params: dict[str, Any]) -> bool:
    kind = spec.get("type")
    if kind == "StatementGroup":
        results = [_statement(s, detection, params) for s in spec.get("statements", [])]
        return all(results) if spec.get("operator", "and") == "and" else any(results)
    if kind == "BinaryStatement":
        left = _operand(spec["left_operand"], detection, params)
        right = _operand(spec["right_operand"], detection, params)
        result = _COMPARATORS[spec["comparator"]["type"]](left, right)
        return not result if spec.get("negate") else result
    if kind == "UnaryStatement":
        value = _operand(spec["operand"], detection, params)
        result = {"Exists": value is not None, "DoesNotExist": value is None,
                  "(Boolean) is True": value is True, "(Boolean) is False": value is False}[spec["operator"]["type"]]
        return not result if spec.get("negate") else result
    raise InvalidInput(f"unsupported statement type {kind!r}")


_SELECTIONS: dict[str, Callable[[list[dict[str, Any]]], list[dict[str, Any]]]] = {
    "first": lambda ds: ds[:1], "last": lambda ds: ds[-1:],
    "left_most": lambda ds: sorted(ds, key=lambda d: d["x"] - d["width"] / 2)[:1],
    "right_most": lambda ds: sorted(ds, key=lambda d: -(d["x"] + d["width"] / 2))[:1],
    "top_confidence": lambda ds: sorted(ds, key=lambda d: -d["confidence"])[:1],
}


def apply(operations: list[dict[str, Any]], value: Any, params: dict[str, Any]) -> Any:
    for op in operations:
        kind = op.get("type")
        if kind == "DetectionsFilter":
            assert isinstance(value, Detections)
            keep = [d for d in value.items if _statement(op["filter_operation"], d, params)]
            value = Detections(value.width, value.height, keep, value.parent_id)
        elif kind == "SequenceLength":
            value = len(value.items) if isinstance(value, Detections) else len(value)
        elif kind == "DetectionsPropertyExtract":
            value = [_DETECTION_PROPERTIES[op["property_name"]](d) for d in value.items]
        elif kind == "ClassificationPropertyExtract":
            assert isinstance(value, Classification)
            prop = op["property_name"]
            value = {"top_class": value.payload.get("top"), "top_class_confidence": value.payload.get("confidence"),
                     "all_classes": [p["class"] for p in value.payload.get("predictions", [])]}[prop]
        elif kind == "DetectionsSelection":
            value = Detections(value.width, value.height, _SELECTIONS[op["mode"]](value.items), value.parent_id)
        elif kind == "SortDetections":
            prop = _DETECTION_PROPERTIES[op.get("mode", "confidence")]
            items = sorted(value.items, key=prop, reverse=not op.get("ascending", True))
            value = Detections(value.width, value.height, items, value.parent_id)
        else:
            raise InvalidInput(f"unsupported operation {kind!r}")
    return value


_KNOWN_OPERATIONS = {"DetectionsFilter", "SequenceLength", "DetectionsPropertyExtract",
                     "ClassificationPropertyExtract", "DetectionsSelection", "SortDetections"}


def check_operations(operations: Any, where: str) -> None:
    """Refuse, at save time, operations this executor cannot run."""
    if not isinstance(operations, list):
        raise WorkflowInvalid(f"{where}: 'operations' must be a list")
    for op in operations:
        kind = op.get("type") if isinstance(op, dict) else None
        if kind not in _KNOWN_OPERATIONS:
            raise WorkflowInvalid(f"{where}: unsupported operation {kind!r}; supported: {sorted(_KNOWN_OPERATIONS)}")
        if kind in ("DetectionsPropertyExtract",) and op.get("property_name") not in _DETECTION_PROPERTIES:
            raise WorkflowInvalid(f"{where}: unknown detection property {op.get('property_name')!r}")
        if kind == "DetectionsSelection" and op.get("mode") not in _SELECTIONS:
            raise WorkflowInvalid(f"{where}: unknown selection mode {op.get('mode')!r}")
        if kind == "DetectionsFilter":
            _check_statement(op.get("filter_operation"), where)


def _check_statement(spec: Any, where: str) -> None:
    if not isinstance(spec, dict):
        raise WorkflowInvalid(f"{where}: filter_operation must be an object")
    kind = spec.get("type")
    if kind == "StatementGroup":
        for s in spec.get("statements", []):
            _check_statement(s, where)
    elif kind == "BinaryStatement":
        comparator = (spec.get("comparator") or {}).get("type")
        if comparator not in _COMPARATORS:
            raise WorkflowInvalid(f"{where}: unsupported comparator {comparator!r}")
        for side in ("left_operand", "right_operand"):
            _check_operand(spec.get(side), where)
    elif kind == "UnaryStatement":
        _check_operand(spec.get("operand"), where)
    else:
        raise WorkflowInvalid(f"{where}: unsupported statement {kind!r}")


def _check_operand(spec: Any, where: str) -> None:
    if not isinstance(spec, dict) or spec.get("type") not in ("StaticOperand", "DynamicOperand"):
        raise WorkflowInvalid(f"{where}: operands must be StaticOperand or DynamicOperand")
    for op in spec.get("operations", []):
        if op.get("type") != "ExtractDetectionProperty" or op.get("property_name") not in _DETECTION_PROPERTIES:
            raise WorkflowInvalid(f"{where}: unsupported operand operation {op}")
