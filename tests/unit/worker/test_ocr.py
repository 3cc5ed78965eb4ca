"""Roboflow's OCR blocks read text offline with PP-OCRv4 (the models of the rapidocr_onnxruntime wheel): the
text in reading order, each line as a detection whose class is its text, on images and on crops."""

from typing import Any

import cv2
import numpy as np
import pytest

from shared.workflows.compiler import compile_workflow
from shared.workflows.errors import WorkflowRunFailed
from worker_svc.models import LoadedModels
from worker_svc.workflows.runner import WorkflowRunner
from worker_svc.workflows.values import serialize


def page() -> np.ndarray:
    image = np.full((200, 500, 3), 255, np.uint8)
    cv2.putText(image, "HELLO WORLD", (10, 60), cv2.FONT_HERSHEY_SIMPLEX, 1.5, (0, 0, 0), 3)
    cv2.putText(image, "LINE TWO 42", (10, 150), cv2.FONT_HERSHEY_SIMPLEX, 1.5, (0, 0, 0), 3)
    return image


def _run(steps: list[dict[str, Any]], outputs: dict[str, str]) -> dict[str, Any]:
    definition = {"version": "1.0", "inputs": [{"type": "WorkflowImage", "name": "image"}], "steps": steps,
                  "outputs": [{"type": "JsonField", "name": n, "selector": s} for n, s in outputs.items()]}
    return serialize(WorkflowRunner(compile_workflow(definition), READER, {}).run(page(), "page.png"))


READER = LoadedModels({})


@pytest.mark.parametrize("block", ["OCRModel", "roboflow_core/ocr_model@v1", "roboflow_core/pp_ocr@v1"])
def test_the_text_of_an_image_line_by_line(block: str) -> None:
    out = _run([{"type": block, "name": "ocr", "images": "$inputs.image"}],
               {"text": "$steps.ocr.result", "lines": "$steps.ocr.predictions", "kind": "$steps.ocr.prediction_type",
                "root": "$steps.ocr.root_parent_id"})
    assert out["text"] == "HELLO WORLD\nLINE TWO 42" and out["kind"] == "ocr" and out["root"] == "page.png"
    first, second = out["lines"]["predictions"]
    assert (first["class"], second["class"]) == ("HELLO WORLD", "LINE TWO 42")
    assert first["y"] < 60 < second["y"] and first["confidence"] > 0.9  # the first line's box is above y = 60
    assert out["lines"]["image"] == {"width": 500, "height": 200}


def test_pp_ocr_without_detection_reads_the_image_as_one_line_and_on_crops() -> None:
    crop = {"type": "roboflow_core/absolute_static_crop@v1", "name": "crop", "images": "$inputs.image",
            "x_center": 250, "y_center": 135, "width": 480, "height": 70}
    out = _run([crop, {"type": "roboflow_core/pp_ocr@v1", "name": "ocr", "images": "$steps.crop.crops",
                       "text_detection": "none"}], {"text": "$steps.ocr.result"})
    # the crop read as one line (without a detected box around the text, the recogniser may read its O as 0)
    assert out["text"].strip() in ("LINE TWO 42", "LINE TW0 42")
    out = _run([{"type": "roboflow_core/pp_ocr@v1", "name": "ocr", "images": "$inputs.image",
                 "text_recognition": "none"}], {"lines": "$steps.ocr.predictions"})
    assert [d["class"] for d in out["lines"]["predictions"]] == ["", ""]  # two boxes, no text
    with pytest.raises(WorkflowRunFailed, match="text_detection and text_recognition must be one of"):
        _run([{"type": "roboflow_core/pp_ocr@v1", "name": "ocr", "images": "$inputs.image",
               "text_detection": "huge"}], {"text": "$steps.ocr.result"})


def test_a_line_is_cut_out_as_it_lies_and_a_tall_one_turned() -> None:
    from worker_svc.inference.ocr import line_crops

    image = np.random.default_rng(2).integers(0, 256, (40, 60, 3), dtype=np.uint8)
    flat, tall, dot = line_crops(image, [[[10, 5], [30, 5], [30, 12], [10, 12]],
                                         [[50, 0], [54, 0], [54, 30], [50, 30]],
                                         [[3, 3], [3, 3], [3, 3], [3, 3]]])
    assert (flat == image[5:12, 10:30]).all()  # on whole pixels: the pixels themselves
    assert tall.shape == (4, 30, 3) and (tall == np.rot90(image[0:30, 50:54])).all()
    assert dot.shape == (1, 1, 3)
