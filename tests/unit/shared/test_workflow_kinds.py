"""The built-in compiler refuses what Roboflow's compiler refuses on kinds: a step output plugged into a parameter
that takes none of the output's kinds (``shared/workflows/roboflow_kinds.json``, Roboflow's manifests)."""

import pytest

from shared.workflows.compiler import compile_workflow
from shared.workflows.errors import WorkflowInvalid
from shared.workflows.kinds import given, required, taken

IMAGE = {"type": "WorkflowImage", "name": "image"}


def _workflow(*steps: dict, output: str) -> dict:
    return {"version": "1.0", "inputs": [IMAGE], "steps": list(steps),
            "outputs": [{"type": "JsonField", "name": "out", "selector": output}]}


OCR = {"type": "roboflow_core/ocr_model@v1", "name": "ocr", "image": "$inputs.image"}
DETECT = {"type": "roboflow_core/roboflow_object_detection_model@v2", "name": "model", "images": "$inputs.image",
          "model_id": "m"}


def test_text_used_as_detections_is_refused_with_both_kinds() -> None:
    crop = {"type": "roboflow_core/dynamic_crop@v1", "name": "crops", "images": "$inputs.image",
            "predictions": "$steps.ocr.result"}
    with pytest.raises(WorkflowInvalid, match=r"step 'crops' parameter 'predictions': \$steps.ocr.result gives "
                                              r"string, which this parameter does not take \(.*object_detection"):
        compile_workflow(_workflow(OCR, crop, output="$steps.crops.crops"))


def test_boxes_where_roboflow_takes_masks_only_are_refused_and_masks_pass() -> None:
    halo = {"type": "roboflow_core/halo_visualization@v1", "name": "halo", "image": "$inputs.image",
            "predictions": "$steps.model.predictions"}
    with pytest.raises(WorkflowInvalid, match="instance_segmentation_prediction"):
        compile_workflow(_workflow(DETECT, halo, output="$steps.halo.image"))
    segment = {**DETECT, "type": "roboflow_core/roboflow_instance_segmentation_model@v2"}
    compile_workflow(_workflow(segment, halo, output="$steps.halo.image"))


def test_legacy_names_aliases_and_wildcards_follow_roboflow() -> None:
    assert taken("Crop", ["predictions"]) == taken("roboflow_core/dynamic_crop@v1", ["predictions"])
    assert given("roboflow_core/property_definition@v1", "output") == {"*"}  # any kind: never refused
    legacy = {"type": "ObjectDetectionModel", "name": "model", "image": "$inputs.image", "model_id": "m"}
    crop = {"type": "Crop", "name": "crops", "image": "$inputs.image", "predictions": "$steps.model.predictions"}
    compile_workflow(_workflow(legacy, crop, output="$steps.crops.crops"))


def test_every_built_in_block_requires_what_roboflows_manifest_requires() -> None:
    """A field Roboflow's manifest requires, given a default by the built-in executor, would save a definition that
    Roboflow refuses (stitch_ocr_detections v2 without its stitching_algorithm did)."""
    from shared.workflows.catalogue import BY_TYPE

    lenient = {}
    for block_type, block in BY_TYPE.items():
        theirs = required(block_type)
        if theirs is None:
            continue
        missing = {block.aliases.get(name, name) for name in theirs} - set(block.required)
        if missing:
            lenient[block_type] = sorted(missing)
    assert lenient == {}
