"""Evaluation of the UQL operations that ``shared.workflows.uql`` accepts when a workflow is saved.

Every name the grammar accepts has its function here (checked by a unit test), so a saved workflow never
meets an unknown operation while it runs.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

from shared.errors import InvalidInput
from worker_svc.workflows.values import Classification, Detections

DETECTION_PROPERTIES: dict[str, Callable[[dict[str, Any]], Any]] = {
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

COMPARATORS: dict[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq, "(Number) ==": operator.eq, "(String) ==": operator.eq,
    "!=": operator.ne, "(Number) !=": operator.ne, "(String) !=": operator.ne,
    "(Number) >": operator.gt, "(Number) >=": operator.ge, "(Number) <": operator.lt, "(Number) <=": operator.le,
    ">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le,
    "in (Sequence)": lambda a, b: a in b, "not in (Sequence)": lambda a, b: a not in b,
    "(String) startsWith": lambda a, b: str(a).startswith(b), "(String) endsWith": lambda a, b: str(a).endswith(b),
    "(String) contains": lambda a, b: b in str(a),
}


UNARY_OPERATORS: dict[str, Callable[[Any], bool]] = {
    "Exists": lambda v: v is not None, "DoesNotExist": lambda v: v is None,
    "(Boolean) is True": lambda v: v is True, "(Boolean) is False": lambda v: v is False,
}

CLASSIFICATION_PROPERTIES: dict[str, Callable[[dict[str, Any]], Any]] = {
    "top_class": lambda c: c.get("top"), "top_class_confidence": lambda c: c.get("confidence"),
    "all_classes": lambda c: [p["class"] for p in c.get("predictions", [])],
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
                value = DETECTION_PROPERTIES[op["property_name"]](value)
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
        result = COMPARATORS[spec["comparator"]["type"]](left, right)
        return not result if spec.get("negate") else result
    if kind == "UnaryStatement":
        value = _operand(spec["operand"], detection, params)
        result = UNARY_OPERATORS[spec["operator"]["type"]](value)
        return not result if spec.get("negate") else result
    raise InvalidInput(f"unsupported statement type {kind!r}")


SELECTION_MODES: dict[str, Callable[[list[dict[str, Any]]], list[dict[str, Any]]]] = {
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
            value = [DETECTION_PROPERTIES[op["property_name"]](d) for d in value.items]
        elif kind == "ClassificationPropertyExtract":
            assert isinstance(value, Classification)
            value = CLASSIFICATION_PROPERTIES[op["property_name"]](value.payload)
        elif kind == "DetectionsSelection":
            value = Detections(value.width, value.height, SELECTION_MODES[op["mode"]](value.items), value.parent_id)
        elif kind == "SortDetections":
            prop = DETECTION_PROPERTIES[op.get("mode", "confidence")]
            items = sorted(value.items, key=prop, reverse=not op.get("ascending", True))
            value = Detections(value.width, value.height, items, value.parent_id)
        else:
            raise InvalidInput(f"unsupported operation {kind!r}")
    return value
