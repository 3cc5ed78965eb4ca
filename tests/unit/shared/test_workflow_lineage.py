"""The built-in compiler refuses what Roboflow's compiler refuses on lineage (``shared.workflows.lineage``): data of
unrelated crops paired in one step, a step gated by a decision made on other data than its own, and per-image data
in a parameter that takes one value for the whole run. Each refused case is next to the nearest one that compiles."""

from typing import Any

import pytest

from shared.workflows.compiler import compile_workflow
from shared.workflows.errors import WorkflowInvalid

IMAGE = {"type": "WorkflowImage", "name": "image"}


def _workflow(*steps: dict[str, Any], output: str, inputs: tuple[dict[str, Any], ...] = ()) -> dict[str, Any]:
    return {"version": "1.0", "inputs": [IMAGE, *inputs], "steps": list(steps),
            "outputs": [{"type": "JsonField", "name": "out", "selector": output}]}


def _detect(name: str, image: str = "$inputs.image", **more: Any) -> dict[str, Any]:
    return {"type": "roboflow_core/roboflow_object_detection_model@v2", "name": name, "images": image,
            "model_id": "m", **more}


def _crop(name: str, predictions: str) -> dict[str, Any]:
    return {"type": "roboflow_core/dynamic_crop@v1", "name": name, "images": "$inputs.image",
            "predictions": predictions}


def _gate(on: str, then: str) -> dict[str, Any]:
    condition = {"type": "StatementGroup", "statements": [{
        "type": "BinaryStatement", "left_operand": {"type": "DynamicOperand", "operand_name": "p",
                                                    "operations": [{"type": "SequenceLength"}]},
        "comparator": {"type": "(Number) >="}, "right_operand": {"type": "StaticOperand", "value": 1}}]}
    return {"type": "roboflow_core/continue_if@v1", "name": "gate", "condition_statement": condition,
            "evaluation_parameters": {"p": on}, "next_steps": [then]}


TWO_CROPS = (_detect("d1"), _crop("c1", "$steps.d1.predictions"), _detect("d2"), _crop("c2", "$steps.d2.predictions"),
             _detect("on1", "$steps.c1.crops"), _detect("on2", "$steps.c2.crops"))


def _consensus(*sources: str) -> dict[str, Any]:
    return {"type": "roboflow_core/detections_consensus@v1", "name": "vote", "predictions_batches": list(sources),
            "required_votes": 1}


_CLASSIFY = {"type": "roboflow_core/roboflow_classification_model@v2", "name": "kind", "images": "$steps.c1.crops",
             "model_id": "k"}
_GREY = {"type": "roboflow_core/convert_grayscale@v1", "name": "grey", "image": "$inputs.image"}


def _stitch(image: str) -> dict[str, Any]:
    return {"type": "roboflow_core/detections_stitch@v1", "name": "stitch", "reference_image": image,
            "predictions": "$steps.on1.predictions", "overlap_filtering_strategy": "none"}


def _confidence(input_type: str) -> dict[str, Any]:
    given = {"type": input_type, "name": "confidence", **({"default_value": 0.5} if "Parameter" in input_type else {})}
    return _workflow(_detect("d", confidence="$inputs.confidence"), output="$steps.d.predictions", inputs=(given,))


# name -> (definition, what the refusal says, or None where it compiles); tests/e2e/test_engine_backend.py checks that
# Roboflow's engine refuses and compiles the very same ones
CASES: dict[str, tuple[dict[str, Any], str | None]] = {
    "detections of two unrelated crops gathered in one step": (
        _workflow(*TWO_CROPS, _consensus("$steps.on1.predictions", "$steps.on2.predictions"),
                  output="$steps.vote.predictions"),
        r"'predictions_batches' gathers data of different crops \(crops of c1 and crops of c2\).*Roboflow's "
        r"compiler refuses it too"),
    "detections of the same crops gathered in one step": (
        _workflow(*TWO_CROPS, _detect("on1b", "$steps.c1.crops"),
                  _consensus("$steps.on1.predictions", "$steps.on1b.predictions"), output="$steps.vote.predictions"),
        None),
    "a step gated by a decision on other crops": (
        _workflow(*TWO_CROPS, _gate("$steps.on2.predictions", "$steps.kind"), _CLASSIFY,
                  output="$steps.kind.predictions"),
        "step 'kind' runs on crops of c1, but step 'gate' decides whether it runs from crops of c2: it would never "
        "run"),
    "a step gated by a decision on its own crops": (
        _workflow(*TWO_CROPS, _gate("$steps.on1.predictions", "$steps.kind"), _CLASSIFY,
                  output="$steps.kind.predictions"), None),
    "a step on crops gated by a decision on their image": (
        _workflow(*TWO_CROPS, _gate("$steps.d2.predictions", "$steps.kind"), _CLASSIFY,
                  output="$steps.kind.predictions"), None),
    "a step on the image gated by a decision per crop": (
        _workflow(*TWO_CROPS, _gate("$steps.on1.predictions", "$steps.grey"), _GREY, output="$steps.grey.image"),
        "step 'grey' runs on the image, but step 'gate' decides whether it runs from crops of c1"),
    "detections of a crop stitched onto another crop": (
        _workflow(*TWO_CROPS, _stitch("$steps.c2.crops"), output="$steps.stitch.predictions"),
        "step 'stitch' takes data of different crops"),
    "detections of a crop stitched onto their image": (
        _workflow(*TWO_CROPS, _stitch("$inputs.image"), output="$steps.stitch.predictions"), None),
    "a confidence per image": (
        _confidence("WorkflowBatchInput"),
        "step 'd' parameter 'confidence' takes one value for the whole run, but '\\$inputs.confidence' gives one "
        "per image"),
    "a confidence for the whole run": (_confidence("WorkflowParameter"), None),
}


@pytest.mark.parametrize("case", CASES)
def test_the_built_in_compiler_refuses_what_roboflow_refuses_on_lineage(case: str) -> None:
    definition, refusal = CASES[case]
    if refusal is None:
        compile_workflow(definition)
    else:
        with pytest.raises(WorkflowInvalid, match=refusal):
            compile_workflow(definition)
