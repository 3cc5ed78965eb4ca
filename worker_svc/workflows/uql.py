"""Evaluation of the UQL operations and statements that ``shared.workflows.uql`` accepts when a workflow is saved,
with Roboflow's semantics (``inference.core.workflows.core_steps.common.query_language``).

Every name the grammar accepts has its function here (checked by a unit test), so a saved workflow never meets
an unknown operation while it runs. A value an operation cannot take (a number where a string is needed, a key
missing from a lookup table) raises ``UqlError``: that image's run fails, the task goes on.
"""

from __future__ import annotations

import json
import random
import re
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from worker_svc.workflows.values import Classification, Detections, Image


class UqlError(ValueError):
    """An operation met a value it cannot take."""


def _left(d: dict[str, Any]) -> float:
    return float(d["x"] - d["width"] / 2)


def _top(d: dict[str, Any]) -> float:
    return float(d["y"] - d["height"] / 2)


def _right(d: dict[str, Any]) -> float:
    return float(d["x"] + d["width"] / 2)


def _bottom(d: dict[str, Any]) -> float:
    return float(d["y"] + d["height"] / 2)


DETECTION_PROPERTIES: dict[str, Callable[[dict[str, Any]], Any]] = {
    "confidence": lambda d: d["confidence"], "class_name": lambda d: d["class"], "class_id": lambda d: d["class_id"],
    "x_min": _left, "y_min": _top, "x_max": _right, "y_max": _bottom,
    "size": lambda d: d["width"] * d["height"],
    "center": lambda d: (float(d["x"]), float(d["y"])),
    "top_left": lambda d: (_left(d), _top(d)), "top_right": lambda d: (_right(d), _top(d)),
    "bottom_left": lambda d: (_left(d), _bottom(d)), "bottom_right": lambda d: (_right(d), _bottom(d)),
    "tracker_id": lambda d: d.get("tracker_id"),
}
SORT_KEYS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "confidence": lambda d: d["confidence"], "x_min": _left, "y_min": _top, "x_max": _right, "y_max": _bottom,
    "size": lambda d: d["width"] * d["height"], "center_x": lambda d: d["x"], "center_y": lambda d: d["y"],
}
# Roboflow picks the left-most and right-most detection by its centre
SELECTIONS: dict[str, Callable[[list[dict[str, Any]]], list[dict[str, Any]]]] = {
    "first": lambda ds: ds[:1], "last": lambda ds: ds[-1:],
    "left_most": lambda ds: [min(ds, key=lambda d: d["x"])] if ds else [],
    "right_most": lambda ds: [max(ds, key=lambda d: d["x"])] if ds else [],
    "top_confidence": lambda ds: [max(ds, key=lambda d: d["confidence"])] if ds else [],
}


def _multi_label(c: dict[str, Any]) -> bool:
    return isinstance(c.get("predictions"), dict)


def _by_class_id(c: dict[str, Any], field: str) -> list[Any]:
    if not _multi_label(c):
        return [p[field] for p in c.get("predictions", [])]
    ordered = sorted(c["predictions"].items(), key=lambda kv: kv[1]["class_id"])
    return [name if field == "class" else value[field] for name, value in ordered]


def _top_confidences(c: dict[str, Any]) -> list[float]:
    return [c["predictions"][name]["confidence"] for name in c.get("predicted_classes", [])]


CLASSIFICATION_PROPERTIES: dict[str, Callable[[dict[str, Any]], Any]] = {
    "top_class": lambda c: c["top"] if "top" in c else c.get("predicted_classes", []),
    "top_class_confidence": lambda c: c["confidence"] if "confidence" in c else _top_confidences(c),
    "top_class_confidence_single": lambda c: c["confidence"] if "confidence" in c
    else max(_top_confidences(c), default=0.0),
    "all_classes": lambda c: _by_class_id(c, "class"),
    "all_confidences": lambda c: _by_class_id(c, "confidence"),
}
IMAGE_PROPERTIES: dict[str, Callable[[Image], Any]] = {
    "size": lambda im: im.width * im.height, "height": lambda im: im.height, "width": lambda im: im.width,
    "aspect_ratio": lambda im: im.width / im.height if im.height else 0.0,
}

BINARY_OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "==": lambda a, b: a == b, "(Number) ==": lambda a, b: a == b,
    "!=": lambda a, b: a != b, "(Number) !=": lambda a, b: a != b,
    "(Number) >": lambda a, b: a > b, "(Number) >=": lambda a, b: a >= b,
    "(Number) <": lambda a, b: a < b, "(Number) <=": lambda a, b: a <= b,
    "(Number) in range": lambda a, b: b[0] <= a <= b[1],
    "(String) startsWith": lambda a, b: a.startswith(b), "(String) endsWith": lambda a, b: a.endswith(b),
    "(String) contains": lambda a, b: b in a,
    "in (Sequence)": lambda a, b: a in b,
    "any in (Sequence)": lambda a, b: any(item in b for item in a),
    "all in (Sequence)": lambda a, b: all(item in b for item in a),
    "(Detection) in zone": lambda a, b: _in_zone(a, b),
}
UNARY_OPERATORS: dict[str, Callable[[Any], bool]] = {
    "Exists": lambda v: v is not None, "DoesNotExist": lambda v: v is None,
    "(Boolean) is True": lambda v: v is True, "(Boolean) is False": lambda v: v is False,
    "(Sequence) is empty": lambda v: _len(v) == 0, "(Sequence) is not empty": lambda v: _len(v) > 0,
}


def _in_zone(detection: Any, zone: Any) -> bool:
    """Whether a detection's centre lies inside (or on) a polygon, given as a list of [x, y] points."""
    import cv2
    import numpy as np

    if not isinstance(detection, dict):
        raise UqlError("'(Detection) in zone' compares a detection ('_' in a filter)")
    polygon = np.asarray(zone, dtype=np.float32).reshape(-1, 1, 2)
    return bool(cv2.pointPolygonTest(polygon, (float(detection["x"]), float(detection["y"])), False) >= 0)


def _len(value: Any) -> int:
    return len(value.items) if isinstance(value, Detections) else len(value)


def _detections(value: Any, kind: str) -> Detections:
    if not isinstance(value, Detections):
        raise UqlError(f"{kind} needs detections, got {type(value).__name__}")
    return value


def _like(value: Detections, items: list[dict[str, Any]]) -> Detections:
    return value.with_items(items)


def _string(value: Any, kind: str) -> str:
    if not isinstance(value, str):
        raise UqlError(f"{kind} needs a string, got {type(value).__name__}")
    return value


def _lookup(table: dict[Any, Any], value: Any) -> Any:
    try:
        return table[value]
    except (KeyError, TypeError):
        raise UqlError(f"{value!r} is not in the lookup table (keys: {list(table)})") from None


def _to_number(value: Any, cast_to: str) -> float | int:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise UqlError(f"{value!r} cannot be cast to {cast_to}") from None
    return int(number) if cast_to == "int" else number


def _arithmetic(value: Any, other: float, fn: Callable[[Any, float], Any], kind: str) -> Any:
    try:
        return fn(value, other)
    except (TypeError, ValueError, ZeroDivisionError) as exc:
        raise UqlError(f"{kind} of {value!r} by {other}: {exc}") from None


def _aggregate(value: Any, mode: str) -> Any:
    if len(value) < 1:
        raise UqlError("an empty sequence cannot be aggregated")
    if mode in ("first", "last"):
        return value[0 if mode == "first" else -1]
    ordered = [v for v, _ in Counter(value).most_common()]
    return ordered[0 if mode == "most_common" else -1]


def _rename(value: Detections, op: dict[str, Any], params: dict[str, Any]) -> Detections:
    class_map, strict = op["class_map"], op.get("strict", True)
    if isinstance(class_map, str):
        class_map = params.get(class_map)
    if isinstance(strict, str):
        strict = params.get(strict)
    if not isinstance(class_map, dict) or not isinstance(strict, bool):
        raise UqlError("DetectionsRename needs a class map (an object) and a boolean 'strict'")
    names = [d["class"] for d in value.items]
    if strict:
        missing = sorted(set(names) - set(class_map))
        if missing:
            raise UqlError(f"DetectionsRename (strict): classes {missing} are not in the class map")
        ids = {name: i for i, name in enumerate(sorted(set(class_map.values())))}
    else:
        # classes that keep their name keep their id; new names get ids from new_classes_id_offset on
        ids = {d["class"]: d["class_id"] for d in value.items if d["class"] not in class_map}
        offset = int(op.get("new_classes_id_offset", 1024))
        for new in sorted(set(class_map.values()) - set(ids)):
            ids[new] = offset
            offset += 1
    renamed = []
    for d in value.items:
        new = class_map.get(d["class"], d["class"])
        renamed.append({**d, "class": new, "class_id": ids[new]})
    return _like(value, renamed)


def _offset(value: Detections, op: dict[str, Any]) -> Detections:
    """Roboflow's DetectionsOffset grows each box by offset_x/offset_y in total (half on each side)."""
    return _like(value, [{**d, "width": d["width"] + op["offset_x"], "height": d["height"] + op["offset_y"]}
                         for d in value.items])


def _shift(value: Detections, op: dict[str, Any]) -> Detections:
    return _like(value, [{**d, "x": d["x"] + op["shift_x"], "y": d["y"] + op["shift_y"]} for d in value.items])


def _classification(value: Any) -> dict[str, Any]:
    if not isinstance(value, Classification):
        raise UqlError(f"ClassificationPropertyExtract needs a classification, got {type(value).__name__}")
    return value.payload


def _image(value: Any, operation: str = "ExtractImageProperty") -> Image:
    if not isinstance(value, Image):
        raise UqlError(f"{operation} needs an image, got {type(value).__name__}")
    return value


def _join(value: Any, separator: str) -> str:
    return separator.join(str(v) for v in value)


def _serialisable(value: Any) -> Any:
    return value.serialize() if isinstance(value, Detections | Classification) else value


AGGREGATES: dict[str, Callable[[Any], Any]] = {"min": min, "max": max, "sum": sum}

Operation = Callable[[Any, dict[str, Any], dict[str, Any]], Any]  # (value, operation, global parameters)

OPERATIONS: dict[str, Operation] = {
    "StringToLowerCase": lambda v, op, p: _string(v, "StringToLowerCase").lower(),
    "StringToUpperCase": lambda v, op, p: _string(v, "StringToUpperCase").upper(),
    "ToString": lambda v, op, p: str(v),
    "ToBoolean": lambda v, op, p: bool(v),
    "LookupTable": lambda v, op, p: _lookup(op["lookup_table"], v),
    "ToNumber": lambda v, op, p: _to_number(v, op["cast_to"]),
    "NumberRound": lambda v, op, p: _arithmetic(v, op["decimal_digits"], lambda a, b: round(a, int(b)),
                                                          "NumberRound"),
    "Multiply": lambda v, op, p: _arithmetic(v, op["other"], lambda a, b: a * b, "Multiply"),
    "Divide": lambda v, op, p: _arithmetic(v, op["other"], lambda a, b: a / b, "Divide"),
    "RandomNumber": lambda v, op, p: random.uniform(op.get("min_value", 0.0), op.get("max_value", 1.0)),
    "StringSubSequence": lambda v, op, p: _string(v, "StringSubSequence")[op.get("start", 0):op.get("end", -1)],
    "StringMatches": lambda v, op, p: re.search(op["regex"], _string(v, "StringMatches")) is not None,
    "SequenceMap": lambda v, op, p: [_lookup(op["lookup_table"], e) for e in v],
    "SequenceApply": lambda v, op, p: [apply(op["operations"], e, p) for e in v],
    "NumericSequenceAggregate": lambda v, op, p: op.get("neutral_value") if len(v) == 0
    else AGGREGATES[op["function"]](v),
    "SequenceAggregate": lambda v, op, p: _aggregate(v, op["mode"]),
    "SequenceLength": lambda v, op, p: _len(v),
    "SequenceElementsCount": lambda v, op, p: dict(Counter(str(e) for e in v)),
    "SequenceJoin": lambda v, op, p: _join(v, op.get("separator", ", ")),
    "ConvertDictionaryToJSON": lambda v, op, p: json.dumps(_serialisable(v)),
    "DetectionsPropertyExtract": lambda v, op, p: [DETECTION_PROPERTIES[op["property_name"]](d)
                                                   for d in _detections(v, "DetectionsPropertyExtract").items],
    "ExtractDetectionProperty": lambda v, op, p: DETECTION_PROPERTIES[op["property_name"]](v),
    "DetectionsFilter": lambda v, op, p: _like(
        _detections(v, "DetectionsFilter"),
        [d for d in v.items if evaluate(op["filter_operation"], {**p, "_": d})]),
    "SortDetections": lambda v, op, p: _like(
        _detections(v, "SortDetections"),
        sorted(v.items, key=SORT_KEYS[op["mode"]], reverse=not op.get("ascending", True))),
    "DetectionsSelection": lambda v, op, p: _like(_detections(v, "DetectionsSelection"),
                                                  SELECTIONS[op["mode"]](v.items)),
    "DetectionsOffset": lambda v, op, p: _offset(_detections(v, "DetectionsOffset"), op),
    "DetectionsShift": lambda v, op, p: _shift(_detections(v, "DetectionsShift"), op),
    "DetectionsRename": lambda v, op, p: _rename(_detections(v, "DetectionsRename"), op, p),
    "DetectionsToDictionary": lambda v, op, p: _detections(v, "DetectionsToDictionary").serialize(),
    "ClassificationPropertyExtract": lambda v, op, p: CLASSIFICATION_PROPERTIES[op["property_name"]](
        _classification(v)),
    "ExtractImageProperty": lambda v, op, p: IMAGE_PROPERTIES[op["property_name"]](_image(v)),
    "ExtractFrameMetadata": lambda v, op, p: _frame_property(_image(v, "ExtractFrameMetadata"), op["property_name"]),
    "TimestampToISOFormat": lambda v, op, p: _timestamp(v).isoformat(),
}


def _frame_property(image: Image, name: str) -> Any:
    """Roboflow's frame properties; the timestamp is the frame's time into its video, as a UTC time from the
    epoch (a file has no wall-clock time of its frames)."""
    video = image.video
    if video is None:
        raise UqlError("ExtractFrameMetadata needs the input image (or a frame), not an image made by a step")
    if name == "frame_number":
        return video.frame_number
    if name == "frame_timestamp":
        return datetime.fromtimestamp(video.frame_timestamp, UTC)
    return video.seconds


def _timestamp(value: Any) -> datetime:
    if not isinstance(value, datetime):
        raise UqlError(f"TimestampToISOFormat needs a timestamp (ExtractFrameMetadata's), got {type(value).__name__}")
    return value


def apply(operations: list[dict[str, Any]], value: Any, params: dict[str, Any]) -> Any:
    """Run a chain of operations on a value; ``params`` are the global parameters operands may name."""
    for op in operations:
        try:
            value = OPERATIONS[op["type"]](value, op, params)
        except UqlError:
            raise
        except (TypeError, ValueError, KeyError, AttributeError, IndexError) as exc:
            raise UqlError(f"{op['type']} cannot take {type(value).__name__}: {exc}") from None
    return value


def evaluate(statement: dict[str, Any], values: dict[str, Any]) -> bool:
    """A StatementGroup, BinaryStatement or UnaryStatement over named values (``_``: the detection under test)."""
    kind = statement["type"]
    if kind == "StatementGroup":
        results = (evaluate(s, values) for s in statement["statements"])
        return all(results) if statement.get("operator", "and") == "and" else any(results)
    try:
        if kind == "BinaryStatement":
            result = BINARY_OPERATORS[statement["comparator"]["type"]](
                _operand(statement["left_operand"], values), _operand(statement["right_operand"], values))
        else:
            result = UNARY_OPERATORS[statement["operator"]["type"]](_operand(statement["operand"], values))
    except UqlError:
        raise
    except (TypeError, ValueError, KeyError, AttributeError, IndexError) as exc:
        raise UqlError(f"{kind} could not be evaluated: {exc}") from None
    return not result if statement.get("negate") else bool(result)


def _operand(spec: dict[str, Any], values: dict[str, Any]) -> Any:
    if spec["type"] == "StaticOperand":
        value = spec.get("value")
    else:
        name = spec.get("operand_name", "_")
        if name not in values:
            raise UqlError(f"the statement names {name!r}, which is not one of its parameters {sorted(values)}")
        value = values[name]
    return apply(spec.get("operations", []), value, values)
