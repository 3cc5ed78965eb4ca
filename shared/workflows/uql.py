"""The subset of Roboflow's query language (UQL) used by ``detections_filter`` and ``property_definition``:
its grammar, checked when a workflow is saved (the worker evaluates it, ``worker_svc.workflows.uql``).

Supported operations: ``DetectionsFilter`` (a ``StatementGroup`` of ``BinaryStatement``s over
``ExtractDetectionProperty`` operands), ``SequenceLength``, ``DetectionsPropertyExtract``,
``ClassificationPropertyExtract``, ``DetectionsSelection`` (first/last/left-most/...) and
``SortDetections``. Anything else is refused when the workflow is saved, not when it runs.
"""

from __future__ import annotations

from typing import Any

from shared.workflows.errors import WorkflowInvalid

DETECTION_PROPERTIES = frozenset({"class_name", "class_id", "confidence", "x_min", "y_min", "x_max", "y_max",
                                  "center", "size", "width", "height"})
COMPARATORS = frozenset({
    "==", "(Number) ==", "(String) ==", "!=", "(Number) !=", "(String) !=",
    "(Number) >", "(Number) >=", "(Number) <", "(Number) <=", ">", ">=", "<", "<=",
    "in (Sequence)", "not in (Sequence)", "(String) startsWith", "(String) endsWith", "(String) contains",
})
UNARY_OPERATORS = frozenset({"Exists", "DoesNotExist", "(Boolean) is True", "(Boolean) is False"})
SELECTION_MODES = frozenset({"first", "last", "left_most", "right_most", "top_confidence"})
CLASSIFICATION_PROPERTIES = frozenset({"top_class", "top_class_confidence", "all_classes"})

OPERATIONS = frozenset({"DetectionsFilter", "SequenceLength", "DetectionsPropertyExtract",
                        "ClassificationPropertyExtract", "DetectionsSelection", "SortDetections"})


def check_operations(operations: Any, where: str) -> None:
    """Refuse, at save time, operations this executor cannot run."""
    if not isinstance(operations, list):
        raise WorkflowInvalid(f"{where}: 'operations' must be a list")
    for op in operations:
        kind = op.get("type") if isinstance(op, dict) else None
        if kind not in OPERATIONS:
            raise WorkflowInvalid(f"{where}: unsupported operation {kind!r}; supported: {sorted(OPERATIONS)}")
        if kind in ("DetectionsPropertyExtract",) and op.get("property_name") not in DETECTION_PROPERTIES:
            raise WorkflowInvalid(f"{where}: unknown detection property {op.get('property_name')!r}")
        if kind == "ClassificationPropertyExtract" and op.get("property_name") not in CLASSIFICATION_PROPERTIES:
            raise WorkflowInvalid(f"{where}: unknown classification property {op.get('property_name')!r}")
        if kind == "SortDetections" and op.get("mode", "confidence") not in DETECTION_PROPERTIES:
            raise WorkflowInvalid(f"{where}: unknown sort property {op.get('mode')!r}")
        if kind == "DetectionsSelection" and op.get("mode") not in SELECTION_MODES:
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
        if comparator not in COMPARATORS:
            raise WorkflowInvalid(f"{where}: unsupported comparator {comparator!r}")
        for side in ("left_operand", "right_operand"):
            _check_operand(spec.get(side), where)
    elif kind == "UnaryStatement":
        if (spec.get("operator") or {}).get("type") not in UNARY_OPERATORS:
            raise WorkflowInvalid(f"{where}: unsupported operator {spec.get('operator')!r}")
        _check_operand(spec.get("operand"), where)
    else:
        raise WorkflowInvalid(f"{where}: unsupported statement {kind!r}")


def _check_operand(spec: Any, where: str) -> None:
    if not isinstance(spec, dict) or spec.get("type") not in ("StaticOperand", "DynamicOperand"):
        raise WorkflowInvalid(f"{where}: operands must be StaticOperand or DynamicOperand")
    for op in spec.get("operations", []):
        if op.get("type") != "ExtractDetectionProperty" or op.get("property_name") not in DETECTION_PROPERTIES:
            raise WorkflowInvalid(f"{where}: unsupported operand operation {op}")
