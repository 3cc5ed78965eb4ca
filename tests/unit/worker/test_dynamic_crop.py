"""Roboflow's dynamic crop: a crop per detection and the detection on its crop; with mask_opacity, a segmented
detection's background blended towards the background colour (a known mask: the segmenter's 16 px square)."""

from pathlib import Path
from typing import Any

import numpy as np

from shared.workflows.compiler import compile_workflow
from tests.fixtures.onnx_models import square_segmenter
from worker_svc.inference.detector import OnnxDetector
from worker_svc.models import LoadedModels
from worker_svc.workflows.runner import WorkflowRunner
from worker_svc.workflows.values import Image, serialize


def test_crops_their_detections_and_the_background_of_masks(tmp_path: Path) -> None:
    models = LoadedModels({"squares": OnnxDetector(square_segmenter(tmp_path / "seg.onnx"), ["blob"])})
    steps: list[dict[str, Any]] = [
        {"type": "roboflow_core/roboflow_instance_segmentation_model@v2", "name": "seg", "images": "$inputs.image",
         "model_id": "squares", "confidence": 0.5},
        {"type": "roboflow_core/dynamic_crop@v1", "name": "crop", "images": "$inputs.image",
         "predictions": "$steps.seg.predictions", "mask_opacity": 1.0, "background_color": "#0000FF"}]
    definition = {"version": "1.0", "inputs": [{"type": "WorkflowImage", "name": "image"}], "steps": steps,
                  "outputs": [{"type": "JsonField", "name": "crops", "selector": "$steps.crop.crops"},
                              {"type": "JsonField", "name": "on_crops", "selector": "$steps.crop.predictions",
                               "coordinates_system": "own"},
                              {"type": "JsonField", "name": "on_image", "selector": "$steps.crop.predictions"}]}
    out = WorkflowRunner(compile_workflow(definition), models, {}).run(np.full((64, 64, 3), 200, np.uint8))
    (crop,) = out["crops"]
    assert isinstance(crop, Image) and crop.array.shape == (32, 32, 3) and crop.offset == (16, 16)
    # the box is 16..48, the mask the square 24..39: inside it the image, outside it the background (BGR)
    assert crop.array[16, 16].tolist() == [200, 200, 200] and crop.array[2, 2].tolist() == [255, 0, 0]
    (on_crop,) = serialize(out["on_crops"])
    (blob,) = on_crop["predictions"]
    assert on_crop["image"] == {"width": 32, "height": 32}
    assert (blob["x"], blob["y"], blob["width"], blob["height"]) == (16.0, 16.0, 32.0, 32.0)
    assert min(q["x"] for q in blob["points"]) >= 7  # the polygon moved with the box (24 - 16 = 8, traced)
    # by default (Roboflow's "parent" coordinates system) the same detection back on the input image
    (on_image,) = serialize(out["on_image"])
    (blob,) = on_image["predictions"]
    assert on_image["image"] == {"width": 64, "height": 64} and blob["parent_id"] == "image"
    assert (blob["x"], blob["y"], blob["width"], blob["height"]) == (32.0, 32.0, 32.0, 32.0)
    assert min(q["x"] for q in blob["points"]) >= 23 and "parent_origin" not in blob
    # in its own coordinates it says where its crop lies, as Roboflow's serialiser does
    (on_crop,) = serialize(out["on_crops"])
    # (where the crop lies in its parent and the parent's size; the same in the input image)
    origin = {"offset_x": 16, "offset_y": 16, "width": 64, "height": 64}
    assert on_crop["predictions"][0]["parent_origin"] == on_crop["predictions"][0]["root_parent_origin"] == origin
