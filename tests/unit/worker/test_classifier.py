"""Single- and multi-label classification decoded from graphs whose scores are known."""

from pathlib import Path

import numpy as np

from tests.fixtures.onnx_models import colour_classifier
from worker_svc.inference.classifier import OnnxClassifier

NAMES = ["red", "green", "blue"]


def _bgr(r: int, g: int, b: int) -> np.ndarray:
    return np.full((16, 16, 3), (b, g, r), np.uint8)


def test_multi_label_predicts_every_class_at_or_above_the_confidence(tmp_path: Path) -> None:
    model = OnnxClassifier(colour_classifier(tmp_path / "m.onnx", softmax=False), NAMES, multi_label=True)
    magenta, dark = model.classify([_bgr(255, 0, 255), _bgr(51, 0, 0)], confidence=0.5)
    assert magenta["predicted_classes"] == ["red", "blue"]
    assert magenta["predictions"] == {"red": {"confidence": 1.0, "class_id": 0},
                                      "green": {"confidence": 0.0, "class_id": 1},
                                      "blue": {"confidence": 1.0, "class_id": 2}}
    assert dark["predicted_classes"] == [] and dark["predictions"]["red"]["confidence"] == 0.2


def test_single_label_gives_the_top_class_of_a_distribution(tmp_path: Path) -> None:
    model = OnnxClassifier(colour_classifier(tmp_path / "s.onnx", softmax=True), NAMES)
    (green,) = model.classify([_bgr(0, 255, 0)], confidence=0.0)
    assert green["top"] == "green" and green["confidence"] > 0.99
    classes = [p["class"] for p in green["predictions"]]
    assert classes[0] == "green" and sorted(classes[1:]) == ["blue", "red"]  # most confident first
    assert abs(sum(p["confidence"] for p in green["predictions"]) - 1.0) < 1e-3
