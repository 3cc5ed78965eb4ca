"""Definitions written the way Roboflow's editor writes them compile and run in the built-in executor: parameter
aliases, every version of the model blocks, flow control, expressions, dimension collapse, transformations; a
block failing on one image fails that image only. The model is a stand-in with known detections."""

from typing import Any

import numpy as np
import pytest

from shared.workflows.compiler import compile_workflow
from shared.workflows.errors import WorkflowInvalid, WorkflowRunFailed
from worker_svc.models import LoadedModels
from worker_svc.workflows.runner import WorkflowRunner
from worker_svc.workflows.values import serialize


class KnownDetector:
    """Finds a car and a person on any full image, and one 'wheel' in anything smaller (a crop)."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def detect(self, images: list[np.ndarray], **kwargs: Any) -> list[list[dict[str, Any]]]:
        self.calls.append(kwargs)
        found = []
        for image in images:
            if image.shape[1] >= 200:
                items = [{"x": 50.0, "y": 50.0, "width": 40.0, "height": 20.0, "confidence": 0.9, "class": "car",
                          "class_id": 2, "detection_id": "car-1"},
                         {"x": 150.0, "y": 40.0, "width": 20.0, "height": 60.0, "confidence": 0.6, "class": "person",
                          "class_id": 0, "detection_id": "person-1"}]
            else:
                items = [{"x": 5.0, "y": 5.0, "width": 4.0, "height": 4.0, "confidence": 0.8, "class": "wheel",
                          "class_id": 7, "detection_id": "wheel-1"}]
            found.append([i for i in items if i["confidence"] >= kwargs["confidence"]])
        return found


class Models(LoadedModels):
    def __init__(self) -> None:
        self.known = KnownDetector()

    def detector(self, model_id: str) -> KnownDetector:
        return self.known

    def classifier(self, model_id: str) -> Any:
        raise KeyError(model_id)


IMAGE = np.zeros((100, 240, 3), np.uint8)
MODEL: dict[str, Any] = {"type": "roboflow_core/roboflow_object_detection_model@v3", "name": "model",
                         "image": "$inputs.image", "model_id": "yolov8n-640"}


def _workflow(steps: list[dict[str, Any]], outputs: dict[str, str], inputs: list[dict[str, Any]] | None = None,
              ) -> dict[str, Any]:
    return {"version": "1.0", "inputs": [{"type": "InferenceImage", "name": "image"}, *(inputs or [])],
            "steps": steps,
            "outputs": [{"type": "JsonField", "name": n, "selector": s} for n, s in outputs.items()]}


def _run(definition: dict[str, Any], models: Models | None = None, **params: Any) -> dict[str, Any]:
    runner = WorkflowRunner(compile_workflow(definition), models or Models(), params)
    return serialize(runner.run(IMAGE), on_image=lambda im: [im.width, im.height])


def _classes(predictions: dict[str, Any]) -> list[str]:
    return [p["class"] for p in predictions["predictions"]]


def _count_at_least(n: int) -> dict[str, Any]:
    return {"type": "StatementGroup", "statements": [{
        "type": "BinaryStatement", "left_operand": {"type": "DynamicOperand", "operand_name": "dets",
                                                    "operations": [{"type": "SequenceLength"}]},
        "comparator": {"type": "(Number) >="}, "right_operand": {"type": "StaticOperand", "value": n}}]}


def test_v3_model_block_with_image_alias_and_confidence_modes() -> None:
    models = Models()
    out = _run(_workflow([{**MODEL, "confidence_mode": "custom", "custom_confidence": 0.7,
                           "class_agnostic_nms": True}],
                         {"p": "$steps.model.predictions", "m": "$steps.model.model_id"}), models)
    assert _classes(out["p"]) == ["car"] and out["m"] == "yolov8n-640"
    assert models.known.calls[-1] == {"confidence": 0.7, "iou_threshold": 0.3, "max_detections": 300,
                                      "class_filter": None, "class_agnostic_nms": True, "max_candidates": 3000,
                                      "mask_decode": ("accurate", 0.0)}
    out = _run(_workflow([MODEL], {"p": "$steps.model.predictions"}), models)  # "best": 0.4
    assert _classes(out["p"]) == ["car", "person"] and models.known.calls[-1]["confidence"] == 0.4
    for version, legacy in ((1, "ObjectDetectionModel"), (2, "roboflow_core/roboflow_object_detection_model@v2")):
        step = {"type": legacy, "name": "model", "images": "$inputs.image", "model_id": "m", "confidence": 0.65}
        assert _classes(_run(_workflow([step], {"p": "$steps.model.predictions"}))["p"]) == ["car"], version
    with pytest.raises(WorkflowInvalid, match="no output 'model_id'"):  # v1 has none
        compile_workflow(_workflow([{**step, "type": "ObjectDetectionModel"}], {"m": "$steps.model.model_id"}))


def test_continue_if_stops_the_steps_it_names_and_everything_fed_by_them() -> None:
    steps: list[dict[str, Any]] = [MODEL,
             {"type": "roboflow_core/continue_if@v1", "name": "enough", "condition_statement": _count_at_least(3),
              "evaluation_parameters": {"dets": "$steps.model.predictions"}, "next_steps": ["$steps.vis"]},
             {"type": "roboflow_core/bounding_box_visualization@v1", "name": "vis", "images": "$inputs.image",
              "predictions": "$steps.model.predictions"},
             {"type": "roboflow_core/property_definition@v1", "name": "size", "data": "$steps.vis.image",
              "operations": [{"type": "ExtractImageProperty", "property_name": "width"}]}]
    outputs = {"p": "$steps.model.predictions", "vis": "$steps.vis.image", "width": "$steps.size.output"}
    stopped = _run(_workflow(steps, outputs))
    assert _classes(stopped["p"]) == ["car", "person"] and stopped["vis"] is None and stopped["width"] is None
    steps[1]["condition_statement"] = _count_at_least(2)
    ran = _run(_workflow(steps, outputs))
    assert ran["vis"] == [240, 100] and ran["width"] == 240


def test_continue_if_per_crop_runs_the_second_stage_on_the_crops_it_lets_through() -> None:
    wide = {"type": "StatementGroup", "statements": [{
        "type": "BinaryStatement", "left_operand": {"type": "DynamicOperand", "operand_name": "width"},
        "comparator": {"type": "(Number) >"}, "right_operand": {"type": "StaticOperand", "value": 30}}]}
    steps: list[dict[str, Any]] = [MODEL,
             {"type": "roboflow_core/dynamic_crop@v1", "name": "crop", "image": "$inputs.image",
              "detections": "$steps.model.predictions"},
             {"type": "roboflow_core/property_definition@v1", "name": "widths", "data": "$steps.crop.crops",
              "operations": [{"type": "ExtractImageProperty", "property_name": "width"}]},
             {"type": "roboflow_core/continue_if@v1", "name": "wide_only", "condition_statement": wide,
              "evaluation_parameters": {"width": "$steps.widths.output"}, "next_steps": ["$steps.second"]},
             {**MODEL, "name": "second", "image": "$steps.crop.crops"},
             {"type": "roboflow_core/dimension_collapse@v1", "name": "all_wheels",
              "data": "$steps.second.predictions"}]
    definition = _workflow(steps, {"second": "$steps.second.predictions", "wheels": "$steps.all_wheels.output",
                                   "widths": "$steps.widths.output"})
    definition["outputs"][0]["coordinates_system"] = "own"  # each crop's detections on their crop
    out = _run(definition)
    assert out["widths"] == [40, 20]  # the car's crop is 40 px wide, the person's 20
    car, person = out["second"]
    assert _classes(car) == ["wheel"] and car["predictions"][0]["parent_id"] == "car-1" and person is None
    assert [w if w is None else _classes(w) for w in out["wheels"]] == [["wheel"], None]


def test_expression_switch_with_static_and_dynamic_results() -> None:
    expression = {"type": "roboflow_core/expression@v1", "name": "verdict",
                  "data": {"dets": "$steps.model.predictions", "limit": "$inputs.limit"},
                  "data_operations": {"dets": [{"type": "SequenceLength"}]},
                  "switch": {"type": "CasesDefinition", "cases": [{
                      "type": "CaseDefinition",
                      "condition": {"type": "StatementGroup", "statements": [{
                          "type": "BinaryStatement", "left_operand": {"type": "DynamicOperand", "operand_name": "dets"},
                          "comparator": {"type": "(Number) >"},
                          "right_operand": {"type": "DynamicOperand", "operand_name": "limit"}}]},
                      "result": {"type": "StaticCaseResult", "value": "crowded"}}],
                      "default": {"type": "DynamicCaseResult", "parameter_name": "dets",
                                  "operations": [{"type": "ToString"}]}}}
    definition = _workflow([MODEL, expression], {"verdict": "$steps.verdict.output"},
                           [{"type": "WorkflowParameter", "name": "limit", "default_value": 1}])
    assert _run(definition)["verdict"] == "crowded"
    assert _run(definition, limit=5)["verdict"] == "2"


def test_detections_transformation_and_filter_with_parameters() -> None:
    steps: list[dict[str, Any]] = [MODEL,
             {"type": "roboflow_core/detections_transformation@v1", "name": "grow",
              "predictions": "$steps.model.predictions",
              "operations": [{"type": "DetectionsOffset", "offset_x": 10, "offset_y": 10},
                             {"type": "SortDetections", "mode": "confidence", "ascending": True}]},
             {"type": "roboflow_core/detections_filter@v1", "name": "wanted", "predictions": "$steps.grow.predictions",
              "operations_parameters": {"wanted": "$inputs.classes"},
              "operations": [{"type": "DetectionsFilter", "filter_operation": {
                  "type": "StatementGroup", "statements": [{
                      "type": "BinaryStatement", "left_operand": {"type": "DynamicOperand", "operations": [
                          {"type": "ExtractDetectionProperty", "property_name": "class_name"}]},
                      "comparator": {"type": "in (Sequence)"},
                      "right_operand": {"type": "DynamicOperand", "operand_name": "wanted"}}]}}]}]
    out = _run(_workflow(steps, {"grown": "$steps.grow.predictions", "wanted": "$steps.wanted.predictions"},
                         [{"type": "WorkflowParameter", "name": "classes", "default_value": ["person"]}]))
    assert [(p["class"], p["width"], p["height"]) for p in out["grown"]["predictions"]] == [
        ("person", 30.0, 70.0), ("car", 50.0, 30.0)]
    assert _classes(out["wanted"]) == ["person"]


def test_detection_offset_and_static_crops() -> None:
    steps = [MODEL,
             {"type": "DetectionOffset", "name": "grown", "predictions": "$steps.model.predictions",
              "offset_x": 10, "offset_y": 100},
             {"type": "roboflow_core/detection_offset@v1", "name": "pct", "predictions": "$steps.model.predictions",
              "offset_width": 50, "offset_height": 50, "units": "Percent (%)"},
             {"type": "roboflow_core/absolute_static_crop@v1", "name": "abs", "image": "$inputs.image",
              "x_center": 230, "y_center": 50, "width": 40, "height": 20},
             {"type": "roboflow_core/relative_statoic_crop@v1", "name": "rel", "images": "$inputs.image",
              "x_center": 0.5, "y_center": 0.5, "width": 0.5, "height": 0.1},
             {**MODEL, "name": "on_crop", "image": "$steps.abs.crops"}]
    out = _run(_workflow(steps, {"grown": "$steps.grown.predictions", "pct": "$steps.pct.predictions",
                                 "abs": "$steps.abs.crops", "rel": "$steps.rel.crops",
                                 "on_crop": "$steps.on_crop.predictions"}))
    car, person = out["grown"]["predictions"]
    # pixels: half the offset on each side, clipped to the 240x100 image; the grown box is a new detection
    assert (car["x"], car["y"], car["width"], car["height"]) == (50.0, 50.0, 50.0, 100.0)
    assert car["parent_id"] == "car-1" and car["detection_id"] != "car-1"
    assert (person["y"], person["height"]) == (50.0, 100.0)
    pct_car = out["pct"]["predictions"][0]
    assert (pct_car["width"], pct_car["height"]) == (60.0, 30.0)  # 25 % of 40 and of 20 on each side
    assert out["abs"] == [30, 20]  # clipped at the right edge: 210..240
    assert out["rel"] == [120, 10]
    assert _classes(out["on_crop"]) == ["wheel"]  # a 30 px crop is "crop-sized" for the stand-in model


def test_detections_classes_replacement_takes_the_class_of_each_crop() -> None:
    class Classifier:
        def classify(self, images: list[np.ndarray], **kwargs: Any) -> list[dict[str, Any]]:
            wide = images[0].shape[1] > 30
            return [{"top": "sedan" if wide else "", "confidence": 0.8, "predictions": [
                {"class": "sedan", "class_id": 4, "confidence": 0.8}] if wide else []}]

    class WithClassifier(Models):
        def classifier(self, model_id: str) -> Classifier:
            return Classifier()

    steps = [MODEL,
             {"type": "roboflow_core/dynamic_crop@v1", "name": "crop", "image": "$inputs.image",
              "predictions": "$steps.model.predictions"},
             {"type": "roboflow_core/roboflow_classification_model@v2", "name": "cls", "images": "$steps.crop.crops",
              "model_id": "types"},
             {"type": "roboflow_core/detections_classes_replacement@v1", "name": "replaced",
              "object_detection_predictions": "$steps.model.predictions",
              "classification_predictions": "$steps.cls.predictions"}]
    out = _run(_workflow(steps, {"p": "$steps.replaced.predictions"}), WithClassifier())
    (sedan,) = out["p"]["predictions"]  # the person's crop found no class: dropped
    assert (sedan["class"], sedan["class_id"], sedan["confidence"], sedan["x"]) == ("sedan", 4, 0.8, 50.0)
    steps[3]["fallback_class_name"] = "unknown"
    out = _run(_workflow(steps, {"p": "$steps.replaced.predictions"}), WithClassifier())
    assert [(p["class"], p["confidence"]) for p in out["p"]["predictions"]] == [("sedan", 0.8), ("unknown", 0.0)]


def test_image_preprocessing_resizes_rotates_and_flips() -> None:
    image = np.zeros((100, 240, 3), np.uint8)
    image[0, 0] = (255, 0, 0)  # a blue top-left pixel shows where the corner went
    steps: list[dict[str, Any]] = [
             {"type": "roboflow_core/image_preprocessing@v1", "name": "small", "image": "$inputs.image",
              "task_type": "resize", "width": 120, "height": None},
             {"type": "roboflow_core/image_preprocessing@v1", "name": "turned", "images": "$inputs.image",
              "task_type": "rotate", "rotation_degrees": 90},
             {"type": "roboflow_core/image_preprocessing@v1", "name": "flipped", "image": "$inputs.image",
              "task_type": "flip", "flip_type": "both"},
             {**MODEL, "name": "on_small", "image": "$steps.small.image"}]
    outputs = {n: f"$steps.{n}.image" for n in ("small", "turned", "flipped")}
    runner = WorkflowRunner(compile_workflow(_workflow(steps, {**outputs, "p": "$steps.on_small.predictions"})),
                            Models(), {})
    arrays: dict[int, np.ndarray] = {}
    out = serialize(runner.run(image), on_image=lambda im: arrays.setdefault(len(arrays), im.array).shape)
    assert out["small"] == (50, 120, 3) and out["turned"] == (240, 100, 3) and out["flipped"] == (100, 240, 3)
    assert tuple(arrays[2][99, 239]) == (255, 0, 0)  # flipped both ways: the corner is now bottom-right
    assert _classes(out["p"]) == ["wheel"]  # the model ran on the 120 px image
    with pytest.raises(WorkflowRunFailed, match="flip_type must be one of"):
        bad = [{**steps[2], "flip_type": "sideways"}]
        WorkflowRunner(compile_workflow(_workflow(bad, {"i": "$steps.flipped.image"})), Models(), {}).run(image)


def test_grayscale_and_dominant_colour() -> None:
    image = np.zeros((100, 240, 3), np.uint8)
    image[:, :160] = (0, 0, 200)  # two thirds red (BGR), one third blue
    image[:, 160:] = (200, 0, 0)
    steps: list[dict[str, Any]] = [
        {"type": "roboflow_core/convert_grayscale@v1", "name": "grey", "image": "$inputs.image"},
             {"type": "roboflow_core/dominant_color@v1", "name": "colour", "images": "$inputs.image",
              "color_clusters": 2},
             {**MODEL, "name": "on_grey", "image": "$steps.grey.image"}]
    arrays: list[np.ndarray] = []
    out = serialize(WorkflowRunner(compile_workflow(_workflow(steps, {"grey": "$steps.grey.image",
                                                                      "colour": "$steps.colour.rgb_color",
                                                                      "p": "$steps.on_grey.predictions"})),
                                   Models(), {}).run(image), on_image=lambda im: arrays.append(im.array))
    (grey,) = arrays
    assert grey.shape == (100, 240, 3) and np.all(grey[:, :, 0] == grey[:, :, 2])
    assert int(grey[0, 0, 0]) == round(0.299 * 200) and int(grey[0, 200, 0]) == round(0.114 * 200)
    assert out["colour"] == [200, 0, 0] and _classes(out["p"]) == ["car", "person"]  # (r, g, b), as JSON


def test_a_block_failing_on_one_image_fails_that_image_with_the_step_and_reason() -> None:
    steps = [MODEL, {"type": "roboflow_core/property_definition@v1", "name": "lookup",
                     "data": "$steps.model.predictions",
                     "operations": [{"type": "DetectionsPropertyExtract", "property_name": "class_name"},
                                    {"type": "SequenceMap", "lookup_table": {"car": "vehicle"}}]}]
    runner = WorkflowRunner(compile_workflow(_workflow(steps, {"o": "$steps.lookup.output"})), Models(), {})
    with pytest.raises(WorkflowRunFailed, match=r"step 'lookup' \(roboflow_core/property_definition@v1\): "
                                                r"'person' is not in the lookup table"):
        runner.run(IMAGE)
    narrow = np.zeros((100, 120, 3), np.uint8)  # a "crop-sized" image: only a wheel, not in the table either
    with pytest.raises(WorkflowRunFailed, match="'wheel' is not in the lookup table"):
        runner.run(narrow)


@pytest.mark.parametrize(("definition", "fragment"), [
    (_workflow([MODEL], {"a": "$steps.model.predictions", "b": "$steps.model.predictions"}), None),
    ({**_workflow([MODEL], {"a": "$steps.model.predictions"}),
      "outputs": [{"type": "JsonField", "name": "a", "selector": "$steps.model.predictions"},
                  {"type": "JsonField", "name": "a", "selector": "$steps.model.model_id"}]},
     "two outputs are named 'a'"),
    (_workflow([MODEL], {"a": "$steps.model.predictions"}, [{"type": "WorkflowParameter", "name": "image"}]),
     "two inputs are named 'image'"),
    (_workflow([{"type": "roboflow_core/dimension_collapse@v1", "name": "c", "data": "$steps.model.predictions"},
                MODEL], {"c": "$steps.c.output"}), "collapses a dimension its input does not have"),
    (_workflow([MODEL, {"type": "roboflow_core/continue_if@v1", "name": "gate", "condition_statement":
                        _count_at_least(1), "evaluation_parameters": {"dets": "$steps.model.predictions"},
                        "next_steps": ["$steps.model.predictions"]}], {"a": "$steps.model.predictions"}),
     "is not a step selector"),
    (_workflow([MODEL, {"type": "roboflow_core/continue_if@v1", "name": "gate", "condition_statement":
                        _count_at_least(1), "next_steps": []}], {"a": "$steps.gate.output"}), "has no output"),
    (_workflow([MODEL, {"type": "roboflow_core/continue_if@v1", "name": "gate", "condition_statement":
                        _count_at_least(1), "evaluation_parameters": {"dets": "$steps.model.predictions"},
                        "next_steps": [], "stop_delay": -2.5}], {"a": "$steps.model.predictions"}),
     "stop_delay must not be negative"),
    (_workflow([{**MODEL, "confidence_mode": "sometimes"}], {"a": "$steps.model.predictions"}), "confidence_mode"),
    (_workflow([{k: v for k, v in MODEL.items() if k != "image"}], {"a": "$steps.model.predictions"}),
     "missing 'images' \\(or 'image'\\)"),
    (_workflow([MODEL, {"type": "roboflow_core/expression@v1", "name": "e", "data": {"d": "$steps.model.predictions"},
                        "switch": {"type": "CasesDefinition", "cases": [],
                                   "default": {"type": "DynamicCaseResult", "parameter_name": "nope"}}}],
               {"a": "$steps.e.output"}), "names 'nope', which is not in data"),
])
def test_compile_time_rules(definition: dict[str, Any], fragment: str | None) -> None:
    if fragment is None:
        assert compile_workflow(definition).outputs == [("a", "$steps.model.predictions"),
                                                        ("b", "$steps.model.predictions")]
        return
    with pytest.raises(WorkflowInvalid, match=fragment):
        compile_workflow(definition)


def test_detections_consensus_keeps_what_enough_models_agree_on() -> None:
    class Shifted(KnownDetector):
        """A second model: the car a little to the right, the person missed, a cat nobody else sees."""

        def detect(self, images: list[np.ndarray], **kwargs: Any) -> list[list[dict[str, Any]]]:
            return [[{"x": 54.0, "y": 50.0, "width": 40.0, "height": 20.0, "confidence": 0.7, "class": "car",
                      "class_id": 2, "detection_id": "car-2"},
                     {"x": 200.0, "y": 20.0, "width": 10.0, "height": 10.0, "confidence": 0.9, "class": "cat",
                      "class_id": 5, "detection_id": "cat-2"}] for _ in images]

    class TwoModels(Models):
        def detector(self, model_id: str) -> KnownDetector:
            return Shifted() if model_id == "other" else self.known

    steps = [MODEL, {**MODEL, "name": "other", "model_id": "other"},
             {"type": "DetectionsConsensus", "name": "vote",
              "predictions": ["$steps.model.predictions", "$steps.other.predictions"], "required_votes": 2,
              "required_objects": {"car": 1}}]
    outputs = {"p": "$steps.vote.predictions", "present": "$steps.vote.object_present",
               "conf": "$steps.vote.presence_confidence"}
    out = _run(_workflow(steps, outputs), TwoModels())
    (car,) = out["p"]["predictions"]  # the person and the cat had one vote each
    assert (car["class"], car["x"], car["width"]) == ("car", 52.0, 40.0)  # the average box
    assert abs(car["confidence"] - 0.8) < 1e-9 and out["present"] is True
    assert out["conf"] == {"car": pytest.approx(0.8)}
    steps[2] = {**steps[2], "required_votes": 1, "detections_merge_coordinates_aggregation": "max",
                "required_objects": {"dog": 1}}
    out = _run(_workflow(steps, outputs), TwoModels())
    assert sorted(p["class"] for p in out["p"]["predictions"]) == ["car", "cat", "person"]
    assert out["present"] is False and out["conf"] == {}  # no dog
