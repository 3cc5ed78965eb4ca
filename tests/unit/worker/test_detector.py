from pathlib import Path

import cv2
import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from scheduler_svc.darknet import parse_cfg
from scheduler_svc.default_model import class_names, ensure_default_model, package_dir, sample_photos
from worker_svc.inference.detector import OnnxDetector, letterbox, nms


@pytest.fixture(scope="module")
def default_detector(tmp_path_factory: pytest.TempPathFactory) -> OnnxDetector:
    model = ensure_default_model(tmp_path_factory.mktemp("cache"))
    return OnnxDetector(model.onnx_path, model.class_names, input_size=model.input_size, threads=2)


def _photo(name: str) -> np.ndarray:
    (path,) = [p for p in sample_photos() if p.name == name]
    image = cv2.imread(str(path))
    assert image is not None
    return image


def test_converted_yolov4_tiny_finds_people_and_the_bus(default_detector: OnnxDetector) -> None:
    image = _photo("bus.jpg")
    (detections,) = default_detector.detect([image], confidence=0.3)
    classes = [d["class"] for d in detections]
    assert classes.count("person") >= 2
    assert "bus" in classes
    bus = max((d for d in detections if d["class"] == "bus"), key=lambda d: d["confidence"])
    h, w = image.shape[:2]
    # the bus spans most of the photo's width, in original-image pixels (letterbox undone)
    assert bus["width"] > 0.6 * w and 0 < bus["y"] < h and bus["confidence"] > 0.8


def test_batched_inference_matches_single_images(default_detector: OnnxDetector) -> None:
    images = [_photo("bus.jpg"), _photo("zidane.jpg")]
    batched = default_detector.detect(images)
    single = [default_detector.detect([img])[0] for img in images]
    for a, b in zip(batched, single, strict=True):
        assert [d["class"] for d in a] == [d["class"] for d in b]
        assert np.allclose([d["x"] for d in a], [d["x"] for d in b], atol=0.5)


def test_class_names_use_standard_coco_spelling() -> None:
    names = class_names()
    assert len(names) == 80 and names[0] == "person"
    assert "motorcycle" in names and "motorbike" not in names and "dining table" in names


def test_cfg_parser_reads_the_shipped_yolov4_tiny_cfg() -> None:
    blocks = parse_cfg((package_dir() / "cfgs" / "yolov4_tiny" / "yolov4-tiny.cfg").read_text())
    assert blocks[0]["type"] == "net" and blocks[0]["width"] == "416"
    assert sum(b["type"] == "yolo" for b in blocks) == 2


def test_nms_keeps_the_best_of_overlapping_boxes() -> None:
    boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [50, 50, 60, 60]], np.float32)
    scores = np.array([0.9, 0.8, 0.7], np.float32)
    assert nms(boxes, scores, 0.5).tolist() == [0, 2]


def test_letterbox_keeps_aspect_ratio_and_centres() -> None:
    canvas, lb = letterbox(np.zeros((100, 200, 3), np.uint8), 416)
    assert canvas.shape == (416, 416, 3)
    assert lb.scale == pytest.approx(416 / 200) and lb.pad_x == 0 and lb.pad_y == 104


def _yolov8_model(path: Path, size: int, raw: np.ndarray) -> Path:
    """An ONNX model in the Ultralytics [N, 4 + C, A] layout that always answers ``raw``."""
    const = numpy_helper.from_array(raw.astype(np.float32), "raw")
    nodes = [
        helper.make_node("ReduceMean", ["images"], ["m"], axes=[1, 2, 3], keepdims=0),
        helper.make_node("Mul", ["m", "zero"], ["z"]),
        helper.make_node("Add", ["raw", "z"], ["output0"]),
    ]
    graph = helper.make_graph(
        nodes, "fake", [helper.make_tensor_value_info("images", TensorProto.FLOAT, [1, 3, size, size])],
        [helper.make_tensor_value_info("output0", TensorProto.FLOAT, list(raw.shape))],
        [const, numpy_helper.from_array(np.zeros((1,), np.float32), "zero")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return path


def test_yolov8_layout_is_decoded_into_original_pixels(tmp_path: Path) -> None:
    # two anchors: a cat box at the centre (score 0.9) and a weak dog box (0.1) below the threshold
    raw = np.array([[[32, 10], [32, 10], [16, 4], [8, 4], [0.9, 0.0], [0.0, 0.1]]], np.float32)
    det = OnnxDetector(_yolov8_model(tmp_path / "m.onnx", 64, raw), ["cat", "dog"])
    assert det.layout == "yolov8" and det.input_size == 64
    (found,) = det.detect([np.zeros((128, 128, 3), np.uint8)], confidence=0.5)
    assert len(found) == 1
    cat = found[0]
    assert cat["class"] == "cat" and cat["class_id"] == 0 and cat["confidence"] == pytest.approx(0.9)
    assert (cat["x"], cat["y"], cat["width"], cat["height"]) == (64.0, 64.0, 32.0, 16.0)


def test_yolov8_head_gives_the_same_detections(tmp_path: Path, default_detector: OnnxDetector) -> None:
    from bench.heads import with_yolov8_head

    model = ensure_default_model(tmp_path)
    reheaded = OnnxDetector(with_yolov8_head(model.onnx_path, tmp_path / "v8.onnx"), model.class_names,
                            input_size=model.input_size, threads=2)
    assert reheaded.layout == "yolov8" and [o.name for o in reheaded.session.get_outputs()] == ["output0"]
    for image in (_photo("bus.jpg"), _photo("zidane.jpg")):
        (ours,) = default_detector.detect([image], confidence=0.3)
        (theirs,) = reheaded.detect([image], confidence=0.3)
        assert [d["class"] for d in theirs] == [d["class"] for d in ours] and ours
        assert np.allclose([[d["x"], d["y"], d["width"], d["height"]] for d in theirs],
                           [[d["x"], d["y"], d["width"], d["height"]] for d in ours], atol=0.5)
