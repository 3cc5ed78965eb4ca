from typing import Any

import cv2
import pytest

from scheduler_svc.default_model import ensure_default_model, sample_photos
from shared.workflows.compiler import WorkflowInvalid, compile_workflow
from tests.fixtures.workflows import DETECTOR, detect_workflow, person_filter
from worker_svc.inference.detector import OnnxDetector
from worker_svc.models import LoadedModels
from worker_svc.workflows.runner import WorkflowRunner
from worker_svc.workflows.values import Image, serialize


class Models(LoadedModels):
    def __init__(self, detector: OnnxDetector) -> None:
        self._detector = detector

    def detector(self, model_id: str) -> OnnxDetector:
        assert model_id == DETECTOR
        return self._detector

    def classifier(self, model_id: str) -> Any:
        raise KeyError(model_id)


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> Models:
    m = ensure_default_model(tmp_path_factory.mktemp("cache"))
    return Models(OnnxDetector(m.onnx_path, m.class_names, input_size=m.input_size, threads=2))


def _bus() -> Any:
    return cv2.imread(str(next(p for p in sample_photos() if p.name == "bus.jpg")))


def test_detect_filter_crop_and_second_stage(models: Models) -> None:
    wf = detect_workflow(visualise=True)
    wf["steps"] += [
        {"type": "roboflow_core/detections_filter@v1", "name": "people", "predictions": "$steps.model.predictions",
         "operations": person_filter(["person"])},
        {"type": "roboflow_core/dynamic_crop@v1", "name": "crop", "images": "$inputs.image",
         "predictions": "$steps.people.predictions"},
        {"type": "roboflow_core/roboflow_object_detection_model@v2", "name": "second", "images": "$steps.crop.crops",
         "model_id": DETECTOR},
    ]
    wf["outputs"] += [{"type": "JsonField", "name": "people", "selector": "$steps.people.predictions"},
                      {"type": "JsonField", "name": "in_crops", "selector": "$steps.second.predictions"}]
    compiled = compile_workflow({"specification": wf})
    assert compiled.image_outputs() == ["visualization"] and compiled.model_ids({}) == {DETECTOR}
    result = WorkflowRunner(compiled, models, {"confidence": 0.3}).run(_bus())
    images: list[tuple[int, int]] = []

    def keep(im: Image) -> str:
        images.append((im.width, im.height))
        return "vis.jpg"

    out = serialize(result, on_image=keep)
    classes = [p["class"] for p in out["predictions"]["predictions"]]
    assert "bus" in classes and classes.count("person") >= 2
    assert out["predictions"]["image"] == {"width": 810, "height": 1080}
    assert out["count"] == len(classes)
    assert {p["class"] for p in out["people"]["predictions"]} == {"person"}
    assert len(out["in_crops"]) == len(out["people"]["predictions"])  # one result per crop
    # by default in the input image's coordinates and size, as Roboflow's engine gives them
    found_in_crop = out["in_crops"][0]
    assert found_in_crop["image"] == {"width": 810, "height": 1080}
    assert found_in_crop["predictions"][0]["parent_id"] == "image"
    assert out["visualization"] == "vis.jpg" and images == [(810, 1080)]


def test_parameters_override_defaults(models: Models) -> None:
    compiled = compile_workflow(detect_workflow())
    strict = serialize(WorkflowRunner(compiled, models, {"confidence": 0.97}).run(_bus()))
    assert [p["class"] for p in strict["predictions"]["predictions"]] == ["person"]
    with pytest.raises(WorkflowInvalid, match="unknown workflow parameters"):
        WorkflowRunner(compiled, models, {"confidense": 0.5})


def _with(**changes: Any) -> dict[str, Any]:
    wf = detect_workflow()
    wf.update(changes)
    return wf


@pytest.mark.parametrize(
    ("definition", "fragment"),
    [
        ("not a dict", "JSON object"),
        (_with(inputs=[{"type": "WorkflowImage", "name": "a"}, {"type": "WorkflowImage", "name": "b"}]),
         "exactly one image input"),
        (_with(inputs=[]), "exactly one image input"),
        (_with(steps=[{"type": "roboflow_core/local_file_sink@v1", "name": "sink"}]), "blocked"),
        (_with(steps=[{"type": "roboflow_core/environment_secrets_store@v1", "name": "s"}]), "blocked"),
        (_with(dynamic_blocks_definitions=[{"manifest": {}}]), "custom Python"),
        (_with(steps=[{"type": "roboflow_core/made_up@v7", "name": "x"}]), "unknown block"),
        (_with(outputs=[{"type": "JsonField", "name": "o", "selector": "$steps.nope.predictions"}]), "no step named"),
        (_with(outputs=[{"type": "JsonField", "name": "o", "selector": "$steps.model.bogus"}]), "has no output"),
        (_with(outputs=[{"type": "JsonField", "name": "o", "selector": "steps.model"}]), "malformed selector"),
        (_with(outputs=[]), "no outputs"),
        (_with(steps=[{"type": "roboflow_core/roboflow_object_detection_model@v2", "name": "m",
                       "images": "$inputs.image"}]), "missing 'model_id'"),
        (_with(steps=[{"type": "roboflow_core/detections_filter@v1", "name": "f", "predictions": "$steps.f.predictions",
                       "operations": []}]), "cycle"),
        (_with(steps=[{"type": "roboflow_core/property_definition@v1", "name": "p", "data": "$inputs.image",
                       "operations": [{"type": "Magic"}]}]), "unsupported operation"),
    ],
)
def test_invalid_workflows_are_refused_with_a_reason(definition: Any, fragment: str) -> None:
    with pytest.raises(WorkflowInvalid, match=fragment) as info:
        compile_workflow(definition)
    assert info.value.status_code == 400


def test_model_ids_follow_parameter_selectors() -> None:
    wf = detect_workflow(model_id="$inputs.model")
    wf["inputs"].append({"type": "WorkflowParameter", "name": "model", "default_value": "a"})
    compiled = compile_workflow(wf)
    assert compiled.model_ids({}) == {"a"} and compiled.model_ids({"model": "b"}) == {"b"}


@pytest.mark.parametrize(("version", "outputs"), [(1, {"inference_id", "predictions"}),
                                                   (2, {"inference_id", "predictions", "model_id"})])
def test_a_wildcard_selects_the_outputs_its_block_version_declares(models: Models, version: int,
                                                                    outputs: set[str]) -> None:
    """As Roboflow's engine answers ``$steps.<step>.*``: v1 model blocks have no model_id output, v2 do."""
    wf = detect_workflow()
    wf["steps"][0]["type"] = f"roboflow_core/roboflow_object_detection_model@v{version}"
    wf["outputs"] = [{"type": "JsonField", "name": "all", "selector": "$steps.model.*"}]
    out = serialize(WorkflowRunner(compile_workflow(wf), models, {}).run(_bus()))
    assert set(out["all"]) == outputs


def test_a_frame_timestamp_is_written_as_roboflow_writes_it(models: Models) -> None:
    """ISO 8601 with a "T", as Roboflow's engine serialises a timestamp (not Python's str() with a space)."""
    wf = detect_workflow()
    wf["steps"].append({"type": "roboflow_core/property_definition@v1", "name": "when", "data": "$inputs.image",
                        "operations": [{"type": "ExtractFrameMetadata", "property_name": "frame_timestamp"}]})
    wf["outputs"] = [{"type": "JsonField", "name": "when", "selector": "$steps.when.output"}]
    out = serialize(WorkflowRunner(compile_workflow(wf), models, {}).run(_bus()))
    assert out["when"] == "1970-01-01T00:00:00+00:00"


def _never(step: str) -> dict[str, Any]:
    """A continue_if that never lets ``step`` run (1 > 2)."""
    return {"type": "roboflow_core/continue_if@v1", "name": "never", "next_steps": [f"$steps.{step}"],
            "condition_statement": {"type": "StatementGroup", "statements": [
                {"type": "BinaryStatement", "left_operand": {"type": "StaticOperand", "value": 1},
                 "comparator": {"type": "(Number) >"}, "right_operand": {"type": "StaticOperand", "value": 2}}]},
            "evaluation_parameters": {}}


def test_a_wildcard_of_a_step_that_did_not_run_gives_each_output_empty(models: Models) -> None:
    """Roboflow's engine answers ``$steps.<step>.*`` of a skipped step with each declared output as null."""
    wf = detect_workflow()
    wf["steps"] += [
        _never("resize"),
        {"type": "roboflow_core/image_preprocessing@v1", "name": "resize", "image": "$inputs.image",
         "task_type": "resize", "width": 10, "height": 10}]
    wf["outputs"] = [{"type": "JsonField", "name": "resized", "selector": "$steps.resize.*"},
                     {"type": "JsonField", "name": "image", "selector": "$steps.resize.image"}]
    out = serialize(WorkflowRunner(compile_workflow(wf), models, {}).run(_bus()))
    assert out == {"resized": {"image": None}, "image": None}


def test_an_output_per_crop_of_crops_never_made_is_an_empty_list(models: Models) -> None:
    """Roboflow's engine answers an output of the crop dimension whose crops were never made with [] (no crops),
    not null."""
    wf = detect_workflow()
    wf["steps"] += [
        _never("crop"),
        {"type": "roboflow_core/dynamic_crop@v1", "name": "crop", "images": "$inputs.image",
         "predictions": "$steps.model.predictions"},
        {"type": "roboflow_core/roboflow_object_detection_model@v2", "name": "second", "images": "$steps.crop.crops",
         "model_id": DETECTOR}]
    wf["outputs"] = [{"type": "JsonField", "name": "in_crops", "selector": "$steps.second.predictions"},
                     {"type": "JsonField", "name": "count", "selector": "$steps.count.output"}]
    out = serialize(WorkflowRunner(compile_workflow(wf), models, {}).run(_bus()))
    assert out["in_crops"] == [] and out["count"] >= 3
