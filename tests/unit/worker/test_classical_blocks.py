"""Roboflow's classical blocks in the built-in executor, on known inputs: blurs and thresholds as OpenCV computes
them, colour counts, merged boxes, OCR detections stitched into text, and branches merged by the first value
that is not empty, detections overlapping a reference class."""

import csv
import io
from typing import Any

import cv2
import numpy as np
import pytest

from shared.workflows.compiler import compile_workflow
from shared.workflows.errors import BuiltinLacks, WorkflowInvalid, WorkflowRunFailed
from worker_svc.models import LoadedModels
from worker_svc.workflows.runner import WorkflowRunner
from worker_svc.workflows.runs import overlap, stitch_ocr_detections
from worker_svc.workflows.values import Detections, Image, serialize


class Letters(LoadedModels):
    """An OCR-by-detection model: one detection per character of 'AB' / 'CD' on two lines, given out of order."""

    def detect(self, images: list[np.ndarray], **kwargs: Any) -> list[list[dict[str, Any]]]:
        boxes = [("D", 60, 52), ("A", 20, 10), ("C", 20, 50), ("B", 60, 12)]
        return [[{"x": float(x), "y": float(y), "width": 20.0, "height": 20.0, "confidence": c / 10,
                  "class": name, "class_id": i, "detection_id": name}
                 for i, (name, x, y) in enumerate(boxes) for c in [i + 5]] for _ in images]

    def detector(self, model_id: str) -> "Letters":
        return self


def run(steps: list[dict[str, Any]], outputs: dict[str, str], image: np.ndarray) -> dict[str, Any]:
    definition = {"version": "1.0", "inputs": [{"type": "WorkflowImage", "name": "image"}], "steps": steps,
                  "outputs": [{"type": "JsonField", "name": n, "selector": s} for n, s in outputs.items()]}
    return WorkflowRunner(compile_workflow(definition), Letters({}), {}).run(image)


def noise() -> np.ndarray:
    return np.random.default_rng(5).integers(0, 256, (40, 60, 3), dtype=np.uint8)


@pytest.mark.parametrize(("kind", "size", "expected"), [
    ("average", 4, lambda a: cv2.blur(a, (4, 4))), ("gaussian", 4, lambda a: cv2.GaussianBlur(a, (5, 5), 0)),
    ("median", 3, lambda a: cv2.medianBlur(a, 3)), ("bilateral", 5, lambda a: cv2.bilateralFilter(a, 5, 75, 75))])
def test_image_blur_as_opencv_computes_it(kind: str, size: int, expected: Any) -> None:
    image = noise()
    out = run([{"type": "roboflow_core/image_blur@v1", "name": "b", "image": "$inputs.image", "blur_type": kind,
                "kernel_size": size}], {"b": "$steps.b.image"}, image.copy())["b"]
    assert isinstance(out, Image) and (out.array == expected(image)).all()


def test_threshold_kinds() -> None:
    image = noise()
    binary = run([{"type": "roboflow_core/threshold@v1", "name": "t", "image": "$inputs.image",
                   "threshold_type": "binary_inv", "thresh_value": 100}], {"t": "$steps.t.image"}, image.copy())["t"]
    assert (binary.array == np.where(image > 100, 0, 255)).all()
    otsu = run([{"type": "roboflow_core/threshold@v1", "name": "t", "image": "$inputs.image",
                 "threshold_type": "otsu", "thresh_value": 0}], {"t": "$steps.t.image"}, image.copy())["t"]
    assert otsu.array.shape == image.shape and set(np.unique(otsu.array)) <= {0, 255}
    with pytest.raises(WorkflowRunFailed, match="threshold_type must be one of"):
        run([{"type": "roboflow_core/threshold@v1", "name": "t", "image": "$inputs.image", "threshold_type": "x",
              "thresh_value": 1}], {"t": "$steps.t.image"}, image)


def test_pixel_colours_are_counted_within_the_tolerance() -> None:
    image = np.zeros((10, 10, 3), np.uint8)
    image[:2] = (0, 0, 250)  # 20 red pixels, BGR
    image[2:3] = (0, 0, 200)
    for colour, tolerance, count in (("#FF0000", 10, 20), ("(255, 0, 0)", 60, 30), ("#F00", 1, 0)):
        out = run([{"type": "roboflow_core/pixel_color_count@v1", "name": "c", "image": "$inputs.image",
                    "target_color": colour, "tolerance": tolerance}], {"n": "$steps.c.matching_pixels_count"}, image)
        assert out["n"] == count, colour


def test_detections_merge_and_ocr_stitching() -> None:
    image = np.zeros((80, 100, 3), np.uint8)
    model = {"type": "roboflow_core/roboflow_object_detection_model@v2", "name": "m", "images": "$inputs.image",
             "model_id": "letters", "confidence": 0.1}
    merged = serialize(run([model, {"type": "roboflow_core/detections_merge@v1", "name": "u",
                                    "predictions": "$steps.m.predictions"}], {"u": "$steps.u.predictions"}, image))
    (box,) = merged["u"]["predictions"]
    assert (box["x"], box["y"], box["width"], box["height"]) == (40.0, 31.0, 60.0, 62.0)  # x 10..70, y 0..62
    assert box["class"] == "merged_detection" and box["confidence"] == 0.5  # the lowest
    for version, direction, delimiter, text in ((1, "left_to_right", "", "AB\nCD"), (2, "right_to_left", "", "BA\nDC"),
                                                (2, "left_to_right", "-", "A-B-\n-C-D"),
                                                (1, "vertical_top_to_bottom", "", "AC BD")):
        out = run([model, {"type": f"roboflow_core/stitch_ocr_detections@v{version}", "name": "s",
                           "predictions": "$steps.m.predictions", "reading_direction": direction,
                           "delimiter": delimiter, **({"stitching_algorithm": "tolerance"} if version == 2 else {})}],
                  {"t": "$steps.s.ocr_text"}, image)
        assert out["t"] == text, (version, direction)
    with pytest.raises(WorkflowInvalid, match="stitching_algorithm must be tolerance, otsu or collimate"):
        compile_workflow({"version": "1.0", "inputs": [{"type": "WorkflowImage", "name": "image"}], "steps": [
            model, {"type": "roboflow_core/stitch_ocr_detections@v2", "name": "s",
                    "predictions": "$steps.m.predictions", "reading_direction": "auto", "stitching_algorithm": "nn"}],
            "outputs": [{"type": "JsonField", "name": "t", "selector": "$steps.s.ocr_text"}]})


def characters(row: str, x: float, y: float, gaps: list[float], drift: float = 0.0) -> list[dict[str, Any]]:
    """Characters 10 px wide and high, laid from (x, y) with the given gaps after each; each ``drift`` px lower
    than the one before."""
    out = []
    for i, name in enumerate(row):
        out.append({"x": x + 5, "y": y + 5 + i * drift, "width": 10.0, "height": 10.0, "class": name,
                    "confidence": 0.9, "class_id": 0, "detection_id": f"{name}{i}"})
        x += 10 + (gaps[i] if i < len(gaps) else 0)
    return out


def stitch(items: list[dict[str, Any]], algorithm: str, direction: str = "left_to_right") -> str:
    shuffled = items[1::2] + items[::2]  # the order detections come in does not matter
    return str(stitch_ocr_detections.run(None, {
        "predictions": Detections(300, 100, shuffled), "reading_direction": direction, "tolerance": 10,
        "delimiter": "", "stitching_algorithm": algorithm, "otsu_threshold_multiplier": 1.0,
        "collimate_tolerance": 10})["ocr_text"])


def test_otsu_stitching_splits_words_where_the_gaps_are_wider() -> None:
    # letter gaps 2 px (0.2 of a character), one word gap of 20 px (2.0); a second line of two letters
    hello = characters("HELLOWORLD", 0, 0, [2, 2, 2, 2, 20, 2, 2, 2, 2]) + characters("HI", 0, 30, [2])
    assert stitch(hello, "otsu") == "HELLO WORLD\nHI"
    assert stitch(hello, "otsu", "right_to_left") == "DLROW OLLEH\nIH"
    # evenly spaced letters are one word: no two kinds of gap
    assert stitch(characters("ABC", 0, 0, [2, 2]), "otsu") == "ABC"


def test_collimate_stitching_follows_a_line_that_drifts() -> None:
    # each letter 4 px lower than the one before: 12 px from first to last, more than the tolerance's rows
    slanted = characters("ABCD", 0, 0, [2, 2, 2], drift=4) + characters("EF", 0, 60, [2])
    assert stitch(slanted, "collimate") == "ABCD\nEF"
    assert stitch(slanted, "tolerance") != "ABCD\nEF"


def test_first_non_empty_merges_the_branches_of_continue_if() -> None:
    image = np.zeros((80, 100, 3), np.uint8)
    steps: list[dict[str, Any]] = [
             {"type": "roboflow_core/roboflow_object_detection_model@v2", "name": "m", "images": "$inputs.image",
              "model_id": "letters", "confidence": 0.1},
             {"type": "roboflow_core/continue_if@v1", "name": "gate", "next_steps": ["$steps.stitch"],
              "condition_statement": {"type": "StatementGroup", "statements": [
                  {"type": "BinaryStatement", "left_operand": {"type": "DynamicOperand", "operand_name": "n",
                                                              "operations": [{"type": "SequenceLength"}]},
                   "comparator": {"type": "(Number) >"}, "right_operand": {"type": "StaticOperand", "value": 9}}]},
              "evaluation_parameters": {"n": "$steps.m.predictions"}},
             {"type": "roboflow_core/stitch_ocr_detections@v1", "name": "stitch", "predictions": "$steps.m.predictions",
              "reading_direction": "left_to_right"},
             {"type": "FirstNonEmptyOrDefault", "name": "first", "data": ["$steps.stitch.ocr_text"],
              "default": "too few letters"}]
    assert run(steps, {"t": "$steps.first.output"}, image)["t"] == "too few letters"  # 4 letters: stitch skipped
    steps[1]["condition_statement"]["statements"][0]["right_operand"]["value"] = 2
    assert run(steps, {"t": "$steps.first.output"}, image)["t"] == "AB\nCD"


def test_morphology_contrast_contours_and_focus() -> None:
    image = np.zeros((40, 60, 3), np.uint8)
    image[10:30, 10:30] = 255
    image[5, 50] = 255  # a speck: opening removes it
    kernel = np.ones((3, 3), np.uint8)
    for version, operation in ((1, "Opening"), (2, "Opening then Closing"), (2, "Dilation")):
        out = run([{"type": f"roboflow_core/morphological_transformation@v{version}", "name": "m",
                    "image": "$inputs.image", "kernel_size": 3, "operation": operation}], {"m": "$steps.m.image"},
                  image.copy())["m"].array
        expected = cv2.dilate(image, kernel) if operation == "Dilation" else cv2.morphologyEx(
            image, cv2.MORPH_OPEN, kernel)
        assert (out == expected).all() and (operation == "Dilation") == bool(out[5, 50].any()), operation
    low = (image // 2 + 40).astype(np.uint8)  # values 40..167
    stretched = run([{"type": "roboflow_core/contrast_enhancement@v1", "name": "c", "image": "$inputs.image"}],
                    {"c": "$steps.c.image"}, low)["c"].array
    assert stretched.min() == 0 and stretched.max() == 255
    out = run([{"type": "roboflow_core/contours_detection@v1", "name": "k", "image": "$inputs.image"}],
              {"n": "$steps.k.number_contours", "c": "$steps.k.contours", "i": "$steps.k.image"}, image.copy())
    assert out["n"] == 2 and out["i"].array[10, 10].tolist() == [255, 0, 255]  # the square's corner, in magenta
    focus = run([{"type": "roboflow_core/camera_focus@v1", "name": "f", "image": "$inputs.image"}],
                {"f": "$steps.f.focus_measure"}, image.copy())["f"]
    blurred = run([{"type": "roboflow_core/camera_focus@v1", "name": "f", "image": "$inputs.image"}],
                  {"f": "$steps.f.focus_measure"}, cv2.GaussianBlur(image, (9, 9), 0))["f"]
    assert focus > blurred > 0  # sharp edges measure higher


def test_perspective_correction_maps_the_quadrilateral_onto_the_rectangle() -> None:
    image = np.zeros((120, 220, 3), np.uint8)
    image[35:85, 60:110] = 255
    model = {"type": "roboflow_core/roboflow_object_detection_model@v2", "name": "m", "images": "$inputs.image",
             "model_id": "letters", "confidence": 0.55}  # the 'C' (0.7) and 'D' (0.8) only
    # given in any order: corners sorted clockwise from the bottom left, as Roboflow does
    quad = [[210, 10], [10, 110], [210, 110], [10, 10]]
    out = run([model, {"type": "PerspectiveCorrection", "name": "pc", "images": "$inputs.image",
                       "predictions": "$steps.m.predictions", "perspective_polygons": quad,
                       "transformed_rect_width": 1000, "transformed_rect_height": 500, "warp_image": True}],
              {"boxes": "$steps.pc.corrected_coordinates", "warped": "$steps.pc.warped_image",
               "w": "$steps.pc.extended_transformed_rect_width"}, image)
    assert out["w"] == 1000 and out["warped"].array.shape == (500, 1000, 3)
    # the white square (60..110, 35..85) lands at x (60 - 10) * 999 / 200, y (35 - 10) * 499 / 100
    warped = out["warped"].array
    assert warped[250, 375].min() == 255 and not warped[100, 100].any()
    c = next(d for d in serialize(out["boxes"])["predictions"] if d["class"] == "C")
    # C's box (10..30, 40..60) maps to x 0..100 (rounded), y 150..250
    assert (c["x"] - c["width"] / 2, c["y"] - c["height"] / 2, c["x"] + c["width"] / 2,
            c["y"] + c["height"] / 2) == (0, 150, 100, 250)
    with pytest.raises(BuiltinLacks, match="extend_perspective_polygon_by_detections_anchor is not built in"):
        compile_workflow({"version": "1.0", "inputs": [{"type": "WorkflowImage", "name": "image"}], "steps": [
            {"type": "PerspectiveCorrection", "name": "pc", "images": "$inputs.image", "perspective_polygons": quad,
             "extend_perspective_polygon_by_detections_anchor": "CENTER"}],
            "outputs": [{"type": "JsonField", "name": "w", "selector": "$steps.pc.warped_image"}]})


def test_json_parser_exposes_each_expected_field_as_an_output() -> None:
    definition = {"version": "1.0", "inputs": [{"type": "WorkflowImage", "name": "image"},
                                               {"type": "WorkflowParameter", "name": "text"}],
                  "steps": [{"type": "roboflow_core/json_parser@v1", "name": "j", "raw_json": "$inputs.text",
                             "expected_fields": ["label", "count"]}],
                  "outputs": [{"type": "JsonField", "name": n, "selector": f"$steps.j.{f}"}
                              for n, f in (("label", "label"), ("count", "count"), ("error", "error_status"))]}

    def parse(raw: str) -> dict[str, Any]:
        runner = WorkflowRunner(compile_workflow(definition), Letters({}), {"text": raw})
        return runner.run(np.zeros((4, 4, 3), np.uint8))

    assert parse('{"label": "cat", "count": 2}') == {"label": "cat", "count": 2, "error": False}
    assert parse('Sure!\n```json\n{"label": "dog"}\n```') == {"label": "dog", "count": None, "error": True}
    assert parse("not json") == {"label": None, "count": None, "error": True}
    with pytest.raises(WorkflowInvalid, match="has no output 'colour'"):
        compile_workflow({"version": "1.0", "inputs": [{"type": "WorkflowImage", "name": "image"}],
                          "steps": [{"type": "roboflow_core/json_parser@v1", "name": "j", "raw_json": "{}",
                                     "expected_fields": ["label"]}],
                          "outputs": [{"type": "JsonField", "name": "c", "selector": "$steps.j.colour"}]})


def _box(name: str, x1: float, y1: float, x2: float, y2: float) -> dict[str, Any]:
    return {"x": (x1 + x2) / 2, "y": (y1 + y2) / 2, "width": x2 - x1, "height": y2 - y1, "confidence": 0.9,
            "class": name, "class_id": 0, "detection_id": f"{name}-{x1}-{y1}"}


@pytest.mark.parametrize(("kind", "kept"), [("Center Overlap", ["inside"]),
                                            ("Any Overlap", ["inside", "straddling", "touching"])])
def test_overlap_keeps_what_overlaps_the_reference_class_and_drops_the_class(kind: str, kept: list[str]) -> None:
    """Roboflow's overlap filter: a centre strictly inside a bicycle's box, or any intersection (touching edges
    included); the bicycles themselves are dropped and the order is kept."""
    detections = Detections(200, 200, [
        _box("far", 150, 150, 190, 190), _box("inside", 40, 40, 60, 60), _box("bicycle", 0, 0, 100, 100),
        _box("straddling", 90, 40, 130, 60), _box("touching", 100, 0, 120, 10)])
    out = overlap.run(None, {"predictions": detections, "overlap_type": kind, "overlap_class_name": "bicycle"})
    assert [d["class"] for d in out["overlaps"].items] == kept
    none = overlap.run(None, {"predictions": detections, "overlap_type": kind, "overlap_class_name": "car"})
    assert none["overlaps"].items == []
    with pytest.raises(ValueError, match="overlap_type"):
        overlap.run(None, {"predictions": detections, "overlap_type": "Some", "overlap_class_name": "bicycle"})


def test_overlap_compiles_as_roboflow_writes_it() -> None:
    image = np.zeros((80, 100, 3), np.uint8)
    model = {"type": "roboflow_core/roboflow_object_detection_model@v2", "name": "m", "images": "$inputs.image",
             "model_id": "letters", "confidence": 0.1}
    out = serialize(run([model, {"type": "roboflow_core/overlap@v1", "name": "o", "predictions": "$steps.m.predictions",
                                 "overlap_type": "Any Overlap", "overlap_class_name": "A"}],
                        {"o": "$steps.o.overlaps"}, image))
    assert out["o"]["predictions"] == []  # A's box touches no other letter


def test_the_csv_formatter_writes_each_images_row_under_a_header() -> None:
    model = {"type": "roboflow_core/roboflow_object_detection_model@v2", "name": "m", "images": "$inputs.image",
             "model_id": "letters", "confidence": 0.1}
    formatter = {"type": "roboflow_core/csv_formatter@v1", "name": "f",
                 "columns_data": {"classes": "$steps.m.predictions", "count": "$steps.m.predictions",
                                  "formula": "=SUM(A1:A9)", "nothing": None},
                 "columns_operations": {
                     "classes": [{"type": "DetectionsPropertyExtract", "property_name": "class_name"}],
                     "count": [{"type": "SequenceLength"}]}}
    text = run([model, formatter], {"csv": "$steps.f.csv_content"}, np.zeros((80, 100, 3), np.uint8))["csv"]
    header, row = list(csv.reader(io.StringIO(text)))
    assert header == ["classes", "count", "formula", "nothing", "timestamp"]
    assert row[:4] == ["['D', 'A', 'C', 'B']", "4", "'=SUM(A1:A9)", ""] and row[4].endswith("+00:00")
    for columns, operations, reason in (({"timestamp": 1}, {}, "reserved"),
                                        ({"a": 1}, {"b": [{"type": "SequenceLength"}]}, "not in columns_data")):
        with pytest.raises(WorkflowInvalid, match=reason):
            run([model, {**formatter, "columns_data": columns, "columns_operations": operations}],
                {"csv": "$steps.f.csv_content"}, np.zeros((80, 100, 3), np.uint8))
