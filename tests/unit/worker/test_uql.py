"""Roboflow's query language as the worker evaluates it: known inputs, known outputs (Roboflow's semantics)."""

from typing import Any

import numpy as np
import pytest

from shared.workflows import uql as grammar
from shared.workflows.errors import WorkflowInvalid
from worker_svc.workflows import uql
from worker_svc.workflows.values import Classification, Detections, Image


def _det(cls: str, x: float, y: float, w: float, h: float, conf: float, class_id: int = 0) -> dict[str, Any]:
    return {"x": x, "y": y, "width": w, "height": h, "confidence": conf, "class": cls, "class_id": class_id,
            "detection_id": f"{cls}-{x}"}


DETS = Detections(200, 100, [_det("car", 50, 50, 20, 10, 0.9, 2), _det("person", 20, 40, 10, 30, 0.6, 0),
                             _det("car", 150, 30, 40, 20, 0.7, 2)])


def _filter(comparator: str, prop: str, value: Any) -> list[dict[str, Any]]:
    return [{"type": "DetectionsFilter", "filter_operation": {"type": "StatementGroup", "statements": [{
        "type": "BinaryStatement",
        "left_operand": {"type": "DynamicOperand", "operations": [
            {"type": "ExtractDetectionProperty", "property_name": prop}]},
        "comparator": {"type": comparator}, "right_operand": {"type": "StaticOperand", "value": value}}]}}]


def test_every_operation_and_operator_the_grammar_accepts_has_an_evaluator() -> None:
    assert set(grammar.OPERATIONS) == set(uql.OPERATIONS)
    assert set(grammar.BINARY_OPERATORS) == set(uql.BINARY_OPERATORS)
    assert set(grammar.UNARY_OPERATORS) == set(uql.UNARY_OPERATORS)
    assert set(uql.DETECTION_PROPERTIES) == grammar.DETECTION_PROPERTIES
    assert set(uql.SORT_KEYS) == grammar.SORT_PROPERTIES and set(uql.SELECTIONS) == grammar.SELECTION_MODES
    assert set(uql.CLASSIFICATION_PROPERTIES) == grammar.CLASSIFICATION_PROPERTIES
    assert not set(grammar.NOT_SUPPORTED) & set(grammar.OPERATIONS)


@pytest.mark.parametrize(("operations", "value", "expected"), [
    ([{"type": "StringToUpperCase"}], "car", "CAR"),
    ([{"type": "StringToLowerCase"}, {"type": "StringSubSequence", "start": 1, "end": 3}], "HELLO", "el"),
    ([{"type": "LookupTable", "lookup_table": {"car": "vehicle"}}], "car", "vehicle"),
    ([{"type": "ToNumber", "cast_to": "int"}], "7.9", 7),
    ([{"type": "ToNumber", "cast_to": "float"}, {"type": "Multiply", "other": 2}], "1.5", 3.0),
    ([{"type": "Divide", "other": 4}, {"type": "NumberRound", "decimal_digits": 2}], 1, 0.25),
    ([{"type": "SequenceAggregate", "mode": "most_common"}], ["a", "b", "b"], "b"),
    ([{"type": "SequenceAggregate", "mode": "last"}], ["a", "b", "c"], "c"),
    ([{"type": "NumericSequenceAggregate", "function": "max"}], [3, 9, 1], 9),
    ([{"type": "NumericSequenceAggregate", "function": "sum", "neutral_value": -1}], [], -1),
    ([{"type": "SequenceMap", "lookup_table": {"a": 1, "b": 2}}], ["a", "b"], [1, 2]),
    ([{"type": "SequenceApply", "operations": [{"type": "StringToUpperCase"}]}], ["a", "b"], ["A", "B"]),
    ([{"type": "SequenceElementsCount"}], ["a", "b", "a"], {"a": 2, "b": 1}),
    ([{"type": "SequenceJoin", "separator": "|"}], ["a", 1], "a|1"),
    ([{"type": "StringMatches", "regex": "^ca"}], "car", True),
    ([{"type": "ToBoolean"}], [], False),
    ([{"type": "ToString"}], 3, "3"),
    ([{"type": "ConvertDictionaryToJSON"}], {"a": 1}, '{"a": 1}'),
])
def test_operations_on_values(operations: list[dict[str, Any]], value: Any, expected: Any) -> None:
    grammar.check_operations(operations, "test")
    assert uql.apply(operations, value, {}) == expected


def test_detections_operations_follow_roboflow() -> None:
    names = [{"type": "DetectionsPropertyExtract", "property_name": "class_name"}]
    assert uql.apply(names, DETS, {}) == ["car", "person", "car"]
    assert uql.apply([{"type": "SequenceLength"}], DETS, {}) == 3
    in_range = uql.apply(_filter("(Number) in range", "confidence", [0.65, 0.95]), DETS, {})
    assert [d["confidence"] for d in in_range.items] == [0.9, 0.7]
    # Roboflow picks the left-most/right-most detection by its centre, not its edge
    left = uql.apply([{"type": "DetectionsSelection", "mode": "left_most"}], DETS, {})
    assert [d["class"] for d in left.items] == ["person"]
    by_centre_y = uql.apply([{"type": "SortDetections", "mode": "center_y", "ascending": False}], DETS, {})
    assert [d["y"] for d in by_centre_y.items] == [50, 40, 30]
    # offset grows a box by offset_x/offset_y in all (half on each side); shift moves it
    grown = uql.apply([{"type": "DetectionsOffset", "offset_x": 10, "offset_y": 4}], DETS, {})
    assert (grown.items[0]["x"], grown.items[0]["width"], grown.items[0]["height"]) == (50, 30, 14)
    moved = uql.apply([{"type": "DetectionsShift", "shift_x": 5, "shift_y": -5}], DETS, {})
    assert (moved.items[0]["x"], moved.items[0]["y"], moved.items[0]["width"]) == (55, 45, 20)
    corners = uql.apply([{"type": "DetectionsSelection", "mode": "first"},
                         {"type": "DetectionsPropertyExtract", "property_name": "top_left"}], DETS, {})
    assert corners == [(40.0, 45.0)]
    assert uql.apply([{"type": "DetectionsToDictionary"}], DETS, {})["image"] == {"width": 200, "height": 100}


def test_rename_is_strict_by_default_and_numbers_new_classes_from_the_offset() -> None:
    strict = uql.apply([{"type": "DetectionsRename", "class_map": {"car": "vehicle", "person": "human"}}], DETS, {})
    assert [(d["class"], d["class_id"]) for d in strict.items] == [("vehicle", 1), ("human", 0), ("vehicle", 1)]
    with pytest.raises(uql.UqlError, match=r"\['person'\] are not in the class map"):
        uql.apply([{"type": "DetectionsRename", "class_map": {"car": "vehicle"}}], DETS, {})
    loose = uql.apply([{"type": "DetectionsRename", "class_map": "mapping", "strict": False,
                        "new_classes_id_offset": 100}], DETS, {"mapping": {"car": "vehicle"}})
    assert [(d["class"], d["class_id"]) for d in loose.items] == [("vehicle", 100), ("person", 0), ("vehicle", 100)]


@pytest.mark.parametrize(("statement", "values", "expected"), [
    ({"type": "BinaryStatement", "left_operand": {"type": "DynamicOperand", "operand_name": "n"},
      "comparator": {"type": "(Number) >="}, "right_operand": {"type": "StaticOperand", "value": 2}}, {"n": 2}, True),
    ({"type": "BinaryStatement", "negate": True, "left_operand": {"type": "DynamicOperand", "operand_name": "n"},
      "comparator": {"type": "(Number) >="}, "right_operand": {"type": "StaticOperand", "value": 2}}, {"n": 2}, False),
    ({"type": "BinaryStatement", "left_operand": {"type": "DynamicOperand", "operand_name": "classes"},
      "comparator": {"type": "any in (Sequence)"}, "right_operand": {"type": "StaticOperand", "value": ["dog"]}},
     {"classes": ["cat", "dog"]}, True),
    ({"type": "BinaryStatement", "left_operand": {"type": "DynamicOperand", "operand_name": "classes"},
      "comparator": {"type": "all in (Sequence)"}, "right_operand": {"type": "StaticOperand", "value": ["dog"]}},
     {"classes": ["cat", "dog"]}, False),
    ({"type": "UnaryStatement", "operand": {"type": "DynamicOperand", "operand_name": "dets"},
      "operator": {"type": "(Sequence) is empty"}}, {"dets": Detections(1, 1, [])}, True),
    ({"type": "StatementGroup", "operator": "or", "statements": [
        {"type": "UnaryStatement", "operand": {"type": "DynamicOperand", "operand_name": "a"},
         "operator": {"type": "(Boolean) is True"}},
        {"type": "UnaryStatement", "operand": {"type": "DynamicOperand", "operand_name": "b"},
         "operator": {"type": "Exists"}}]}, {"a": False, "b": 0}, True),
])
def test_statements(statement: dict[str, Any], values: dict[str, Any], expected: bool) -> None:
    grammar.check_statement(statement, "test")
    assert uql.evaluate(statement, values) is expected


def test_classification_properties_of_single_and_multi_label_results() -> None:
    single = Classification({"top": "cat", "confidence": 0.8, "predictions": [
        {"class": "cat", "class_id": 0, "confidence": 0.8}, {"class": "dog", "class_id": 1, "confidence": 0.2}]})
    multi = Classification({"predicted_classes": ["dog"], "predictions": {
        "dog": {"class_id": 1, "confidence": 0.9}, "cat": {"class_id": 0, "confidence": 0.1}}})

    def prop(name: str, value: Classification) -> Any:
        return uql.apply([{"type": "ClassificationPropertyExtract", "property_name": name}], value, {})

    assert (prop("top_class", single), prop("top_class_confidence", single)) == ("cat", 0.8)
    assert (prop("top_class", multi), prop("top_class_confidence", multi)) == (["dog"], [0.9])
    assert prop("top_class_confidence_single", multi) == 0.9
    assert prop("all_classes", multi) == ["cat", "dog"] and prop("all_confidences", single) == [0.8, 0.2]
    image = Image(np.zeros((30, 60, 3), np.uint8), parent_id="i")
    assert uql.apply([{"type": "ExtractImageProperty", "property_name": "aspect_ratio"}], image, {}) == 2.0


def test_values_an_operation_cannot_take_are_errors_of_that_image() -> None:
    with pytest.raises(uql.UqlError, match="not in the lookup table"):
        uql.apply([{"type": "LookupTable", "lookup_table": {"a": 1}}], "b", {})
    with pytest.raises(uql.UqlError, match="needs a string"):
        uql.apply([{"type": "StringToUpperCase"}], 3, {})
    with pytest.raises(uql.UqlError, match="empty sequence"):
        uql.apply([{"type": "SequenceAggregate", "mode": "first"}], [], {})
    with pytest.raises(uql.UqlError, match="names 'missing'"):
        uql.evaluate({"type": "UnaryStatement", "operand": {"type": "DynamicOperand", "operand_name": "missing"},
                      "operator": {"type": "Exists"}}, {})


@pytest.mark.parametrize(("operations", "fragment"), [
    ([{"type": "Magic"}], "unsupported operation 'Magic'"),
    ([{"type": "ExtractFrameMetadata", "property_name": "frame_rate"}], "ExtractFrameMetadata.property_name is"),
    ([{"type": "ConvertImageToJPEG"}], "encodes images for sinks"),
    ([{"type": "LookupTable"}], "needs 'lookup_table'"),
    ([{"type": "ToNumber", "cast_to": "decimal"}], "ToNumber.cast_to is 'decimal'"),
    ([{"type": "Multiply", "other": True}], "Multiply.other must be int or float"),
    ([{"type": "SequenceApply", "operations": [{"type": "Nope"}]}], "unsupported operation 'Nope'"),
    (_filter("(String) equals", "class_name", "car"), "unknown comparator"),
    ([{"type": "SortDetections", "mode": "width"}], "SortDetections.mode is 'width'"),
])
def test_the_grammar_refuses_what_roboflow_would_not_accept(operations: Any, fragment: str) -> None:
    with pytest.raises(WorkflowInvalid, match=fragment.replace("(", r"\(").replace(")", r"\)")):
        grammar.check_operations(operations, "step 'x'")
