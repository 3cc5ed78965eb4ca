"""Instance segmentation decoded from a graph of the YOLOv8-seg layout whose masks are known."""

from pathlib import Path

import numpy as np
import pytest

from tests.fixtures.onnx_models import square_segmenter
from worker_svc.inference.detector import OnnxDetector


def _bounds(points: list[dict[str, float]]) -> tuple[float, float, float, float]:
    xs, ys = [p["x"] for p in points], [p["y"] for p in points]
    return min(xs), min(ys), max(xs), max(ys)


@pytest.fixture
def segmenter(tmp_path: Path) -> OnnxDetector:
    model = OnnxDetector(square_segmenter(tmp_path / "seg.onnx"), ["blob"])
    assert model.layout == "yolov8-seg" and model.input_size == 64
    return model


def test_the_mask_becomes_a_polygon_in_image_pixels(segmenter: OnnxDetector) -> None:
    (found,) = segmenter.detect([np.zeros((64, 64, 3), np.uint8)], confidence=0.5)
    (blob,) = found  # the 0.1 anchor is below the confidence
    assert (blob["x"], blob["y"], blob["width"], blob["height"], blob["class"]) == (32.0, 32.0, 32.0, 32.0, "blob")
    x1, y1, x2, y2 = _bounds(blob["points"])
    assert abs(x1 - 24) <= 1 and abs(y1 - 24) <= 1 and abs(x2 - 39) <= 1 and abs(y2 - 39) <= 1
    (fast,) = segmenter.detect([np.zeros((64, 64, 3), np.uint8)], confidence=0.5, mask_decode=("fast", 0.0))[0]
    assert _bounds(fast["points"]) == (24.0, 24.0, 36.0, 36.0)  # traced at prototype resolution (4 px cells)


def test_points_follow_the_letterbox_back_to_the_image(segmenter: OnnxDetector) -> None:
    # a 128 x 64 image is scaled by a half into the 64 x 64 input, with 16 px of padding above and below
    (blob,) = segmenter.detect([np.zeros((64, 128, 3), np.uint8)], confidence=0.5)[0]
    assert (blob["x"], blob["y"], blob["width"], blob["height"]) == (64.0, 32.0, 64.0, 64.0)
    x1, y1, x2, y2 = _bounds(blob["points"])
    assert abs(x1 - 48) <= 2 and abs(x2 - 79) <= 2 and abs(y1 - 16) <= 2 and abs(y2 - 47) <= 2
