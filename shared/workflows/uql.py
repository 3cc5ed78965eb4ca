"""Roboflow's query language (UQL), the operations and statements that ``detections_filter``,
``detections_transformation``, ``property_definition``, ``expression`` and ``continue_if`` carry: its grammar,
checked when a workflow is saved (the worker evaluates it, ``worker_svc.workflows.uql``).

Names, fields and allowed values are Roboflow's (``inference.core.workflows.core_steps.common.query_language``),
so a definition saved in Roboflow's editor compiles unchanged. The few operations that need what a batch job
does not have (video frame metadata, images encoded for a sink, parent detections of a crop) are refused when
the workflow is saved, with their names, never when it runs.
"""

from __future__ import annotations

from typing import Any

from shared.workflows.errors import BuiltinLacks, WorkflowInvalid

DETECTION_PROPERTIES = frozenset({"confidence", "class_name", "x_min", "x_max", "y_min", "y_max", "size",
                                  "class_id", "center", "top_left", "top_right", "bottom_left", "bottom_right",
                                  "tracker_id"})
SORT_PROPERTIES = frozenset({"confidence", "x_min", "x_max", "y_min", "y_max", "size", "center_x", "center_y"})
SELECTION_MODES = frozenset({"first", "last", "left_most", "right_most", "top_confidence"})
CLASSIFICATION_PROPERTIES = frozenset({"top_class", "top_class_confidence", "top_class_confidence_single",
                                       "all_classes", "all_confidences"})
IMAGE_PROPERTIES = frozenset({"size", "height", "width", "aspect_ratio"})
# of a video frame (a still image is frame 0 of its own video)
FRAME_PROPERTIES = frozenset({"frame_number", "frame_timestamp", "seconds_since_start"})

# field kinds: a Python type (or tuple), an enumeration (frozenset), or a nested grammar ("operations", "statement")
_INT, _NUMBER, _STR, _BOOL, _DICT = (int,), (int, float), (str,), (bool,), (dict,)
Field = tuple[Any, bool]  # (kind, required)

OPERATIONS: dict[str, dict[str, Field]] = {
    "StringToLowerCase": {}, "StringToUpperCase": {}, "ToString": {}, "ToBoolean": {},
    "LookupTable": {"lookup_table": (_DICT, True)},
    "ToNumber": {"cast_to": (frozenset({"int", "float"}), True)},
    "NumberRound": {"decimal_digits": (_INT, True)},
    "Multiply": {"other": (_NUMBER, True)},
    "Divide": {"other": (_NUMBER, True)},
    "RandomNumber": {"min_value": (_NUMBER, False), "max_value": (_NUMBER, False)},
    "StringSubSequence": {"start": (_INT, False), "end": (_INT, False)},
    "StringMatches": {"regex": (_STR, True)},
    "SequenceMap": {"lookup_table": (_DICT, True)},
    "SequenceApply": {"operations": ("operations", True)},
    "NumericSequenceAggregate": {"function": (frozenset({"min", "max", "sum"}), True),
                                 "neutral_value": (object, False)},
    "SequenceAggregate": {"mode": (frozenset({"first", "last", "most_common", "least_common"}), True)},
    "SequenceLength": {}, "SequenceElementsCount": {},
    "SequenceJoin": {"separator": (_STR, False)},
    "ConvertDictionaryToJSON": {},
    "DetectionsPropertyExtract": {"property_name": (DETECTION_PROPERTIES, True)},
    "ExtractDetectionProperty": {"property_name": (DETECTION_PROPERTIES, True)},
    "DetectionsFilter": {"filter_operation": ("statement", True)},
    "SortDetections": {"mode": (SORT_PROPERTIES, True), "ascending": (_BOOL, False)},
    "DetectionsSelection": {"mode": (SELECTION_MODES, True)},
    "DetectionsOffset": {"offset_x": (_INT, True), "offset_y": (_INT, True)},
    "DetectionsShift": {"shift_x": (_INT, True), "shift_y": (_INT, True)},
    "DetectionsRename": {"class_map": ((dict, str), True), "strict": ((bool, str), False),
                         "new_classes_id_offset": (_INT, False)},
    "DetectionsToDictionary": {},
    "ClassificationPropertyExtract": {"property_name": (CLASSIFICATION_PROPERTIES, True)},
    "ExtractImageProperty": {"property_name": (IMAGE_PROPERTIES, True)},
    "ExtractFrameMetadata": {"property_name": (FRAME_PROPERTIES, True)},
    "TimestampToISOFormat": {},
}
NOT_SUPPORTED: dict[str, str] = {
    "ConvertImageToJPEG": "it encodes images for sinks, which batch jobs do not run",
    "ConvertImageToBase64": "it encodes images for sinks, which batch jobs do not run",
    "PickDetectionsByParentClass": "it needs the parent detections of crops, which are not tracked",
}

BINARY_OPERATORS = frozenset({
    "==", "(Number) ==", "!=", "(Number) !=", "(Number) >", "(Number) >=", "(Number) <", "(Number) <=",
    "(Number) in range", "(String) startsWith", "(String) endsWith", "(String) contains",
    "in (Sequence)", "any in (Sequence)", "all in (Sequence)", "(Detection) in zone",
})
UNARY_OPERATORS = frozenset({"Exists", "DoesNotExist", "(Boolean) is True", "(Boolean) is False",
                             "(Sequence) is empty", "(Sequence) is not empty"})


def check_operations(operations: Any, where: str) -> None:
    """Refuse, at save time, operations this executor cannot run or Roboflow would not accept."""
    if not isinstance(operations, list):
        raise WorkflowInvalid(f"{where}: 'operations' must be a list")
    for i, op in enumerate(operations):
        _check_operation(op, f"{where} operation {i}")


def _check_operation(op: Any, where: str) -> None:
    kind = op.get("type") if isinstance(op, dict) else None
    if kind in NOT_SUPPORTED:
        raise BuiltinLacks(f"{where}: operation {kind!r} is not supported: {NOT_SUPPORTED[kind]}")
    if kind not in OPERATIONS:
        raise WorkflowInvalid(f"{where}: unsupported operation {kind!r}; supported: {sorted(OPERATIONS)}")
    for name, (field_kind, required) in OPERATIONS[kind].items():
        if name not in op:
            if required:
                raise WorkflowInvalid(f"{where}: {kind} needs {name!r}")
            continue
        value = op[name]
        if field_kind == "operations":
            check_operations(value, f"{where} ({kind})")
        elif field_kind == "statement":
            check_statement(value, f"{where} ({kind})")
        elif isinstance(field_kind, frozenset):
            if value not in field_kind:
                raise WorkflowInvalid(f"{where}: {kind}.{name} is {value!r}; allowed: {sorted(field_kind)}")
        elif field_kind is not object and (not isinstance(value, field_kind)
                                           or (isinstance(value, bool) and bool not in field_kind)):
            raise WorkflowInvalid(f"{where}: {kind}.{name} must be {' or '.join(t.__name__ for t in field_kind)}")


def check_statement(spec: Any, where: str) -> None:
    """A ``StatementGroup``, ``BinaryStatement`` or ``UnaryStatement``, recursively."""
    if not isinstance(spec, dict):
        raise WorkflowInvalid(f"{where}: a statement must be an object")
    kind = spec.get("type")
    if kind == "StatementGroup":
        if spec.get("operator", "and") not in ("and", "or"):
            raise WorkflowInvalid(f"{where}: StatementGroup operator must be 'and' or 'or'")
        statements = spec.get("statements")
        if not isinstance(statements, list) or not statements:
            raise WorkflowInvalid(f"{where}: StatementGroup needs a non-empty list of statements")
        for s in statements:
            check_statement(s, where)
    elif kind == "BinaryStatement":
        comparator = (spec.get("comparator") or {}).get("type")
        if comparator not in BINARY_OPERATORS:
            raise WorkflowInvalid(f"{where}: unknown comparator {comparator!r}; supported: {sorted(BINARY_OPERATORS)}")
        for side in ("left_operand", "right_operand"):
            _check_operand(spec.get(side), where)
    elif kind == "UnaryStatement":
        operator = (spec.get("operator") or {}).get("type")
        if operator not in UNARY_OPERATORS:
            raise WorkflowInvalid(f"{where}: unknown operator {operator!r}; supported: {sorted(UNARY_OPERATORS)}")
        _check_operand(spec.get("operand"), where)
    else:
        raise WorkflowInvalid(f"{where}: unknown statement {kind!r} (StatementGroup, BinaryStatement or "
                              "UnaryStatement)")


def _check_operand(spec: Any, where: str) -> None:
    if not isinstance(spec, dict) or spec.get("type") not in ("StaticOperand", "DynamicOperand"):
        raise WorkflowInvalid(f"{where}: operands must be StaticOperand or DynamicOperand")
    if spec["type"] == "StaticOperand" and "value" not in spec:
        raise WorkflowInvalid(f"{where}: a StaticOperand needs a 'value'")
    check_operations(spec.get("operations", []), where)

