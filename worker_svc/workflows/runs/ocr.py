"""What the block does: PP-OCRv4 on each image (``worker_svc.inference.ocr``)."""

from __future__ import annotations

from typing import Any

from worker_svc.inference.ocr import text_of
from worker_svc.workflows.blocks import ModelProvider
from worker_svc.workflows.values import Detections, Image

_OCR_SIZES = ("none", "tiny", "small", "medium")


def run(models: ModelProvider, p: dict[str, Any]) -> dict[str, Any]:
    """Roboflow's OCR outputs: the text (a line per line), and each line as a detection whose class is its text.
    pp_ocr's sizes all read with the one PP-OCRv4 mobile pair; ``none`` turns detection or recognition off."""
    image: Image = p["images"]
    sizes = (p.get("text_detection", "small"), p.get("text_recognition", "small"))
    if any(s not in _OCR_SIZES for s in sizes):
        raise ValueError(f"text_detection and text_recognition must be one of {_OCR_SIZES}")
    lines = models.text_reader().read(image.array, detect=sizes[0] != "none", recognise=sizes[1] != "none")
    found = [image.to_full_size(line.as_detection()) for line in lines]
    return {
        "result": text_of(lines),
        "predictions": Detections(image.width, image.height, found, image.parent_id, image.offset),
        "parent_id": image.parent_id,
        "root_parent_id": image.root,
        "prediction_type": "ocr",
    }
