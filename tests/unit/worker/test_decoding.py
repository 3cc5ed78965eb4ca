"""Reduced-size decoding: on both sides of twice the input size, EXIF orientation as in a full decode, boxes
mapped back to the full image, and only for workflows whose models alone see the image."""

import struct

import cv2
import numpy as np
import pytest

from scheduler_svc.default_model import DefaultModel, ensure_default_model, sample_photos
from shared.workflows.compiler import compile_workflow
from tests.fixtures.media import decoded, photo
from tests.fixtures.workflows import detect_workflow
from worker_svc.backends import only_models_see_the_image
from worker_svc.decoding import decode_image, exif_orientation, reduction
from worker_svc.inference.detector import OnnxDetector
from worker_svc.models import LoadedModels
from worker_svc.workflows.runner import WorkflowRunner


def _jpeg(width: int, height: int) -> bytes:
    image = np.random.default_rng(0).integers(0, 255, (height, width, 3), dtype=np.uint8)
    return cv2.imencode(".jpg", image)[1].tobytes()


def _with_orientation(jpeg: bytes, orientation: int) -> bytes:
    """The JPEG with an EXIF APP1 segment whose only tag is the orientation."""
    tiff = b"II*\x00" + struct.pack("<I", 8) + struct.pack("<H", 1) + struct.pack("<HHIHH", 0x0112, 3, 1,
                                                                                    orientation, 0) + b"\0\0\0\0"
    body = b"Exif\x00\x00" + tiff
    return jpeg[:2] + b"\xff\xe1" + struct.pack(">H", len(body) + 2) + body + jpeg[2:]


def test_the_scale_keeps_both_sides_at_least_the_input_size() -> None:
    assert reduction(832, 832, 416) == 2 and reduction(831, 832, 416) == 1  # exactly twice, one pixel less
    assert reduction(1664, 1664, 416) == 4 and reduction(1663, 1664, 416) == 2  # ceil(1663 / 4) = 416
    assert reduction(1660, 1664, 416) == 2
    assert reduction(8000, 4000, 416) == 8 and reduction(8000, 3327, 416) == 4
    assert reduction(640, 480, 416) == 1


def test_a_large_jpeg_is_decoded_smaller_and_a_small_one_in_full() -> None:
    decoded = decode_image(_jpeg(2000, 1700), 416)
    assert decoded.scale == 4 and decoded.array.shape == (425, 500, 3) and decoded.full_size == (2000, 1700)
    full = decode_image(_jpeg(2000, 1700))  # no reduce_to: in full
    assert full.scale == 1 and full.array.shape == (1700, 2000, 3) and full.full_size is None
    assert decode_image(_jpeg(831, 2000), 416).scale == 1
    png = cv2.imencode(".png", np.zeros((2000, 2000, 3), np.uint8))[1].tobytes()
    assert decode_image(png, 416).scale == 1  # DCT scaling is JPEG's


def test_exif_orientation_turns_a_reduced_decode_as_it_turns_a_full_one() -> None:
    stored = np.zeros((1000, 1800, 3), np.uint8)
    stored[:200, :300] = 255  # a white block in the stored image's top left corner
    jpeg = cv2.imencode(".jpg", stored)[1].tobytes()
    rotated = _with_orientation(jpeg, 6)  # turned 90 degrees clockwise: shown 1000 wide, 1800 high
    full = decode_image(rotated)
    assert full.array.shape[:2] == (1800, 1000) and full.array[:300, -200:].mean() > 250  # now top right
    reduced = decode_image(rotated, 416)
    assert reduced.scale == 2 and reduced.full_size == (1000, 1800) and reduced.array.shape[:2] == (900, 500)
    assert reduced.array[:150, -100:].mean() > 250 and reduced.array[:150, :100].mean() < 5


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> DefaultModel:
    return ensure_default_model(tmp_path_factory.mktemp("cache"))


class _Models(LoadedModels):
    def __init__(self, detector: OnnxDetector) -> None:
        self._detector = detector

    def detector(self, model_id: str) -> OnnxDetector:
        return self._detector

    def classifier(self, model_id: str) -> OnnxDetector:
        raise KeyError(model_id)


def test_boxes_found_on_a_reduced_decode_are_given_in_the_full_image(model: DefaultModel) -> None:
    (bus,) = [p for p in sample_photos() if p.name == "bus.jpg"]
    big = cv2.resize(decoded(bus.read_bytes()), (1620 * 2, 2160))  # 3240 x 2160: decoded at 1/4
    data = cv2.imencode(".jpg", big, [cv2.IMWRITE_JPEG_QUALITY, 95])[1].tobytes()
    detector = OnnxDetector(model.onnx_path, model.class_names, input_size=416, threads=2)
    runner = WorkflowRunner(compile_workflow(detect_workflow()), _Models(detector), {"confidence": 0.3})
    full, reduced = decode_image(data), decode_image(data, 416)
    assert reduced.scale == 4
    found_full = runner.run(full.array)["predictions"].serialize()
    found_reduced = runner.run(reduced.array, scale=reduced.scale, full_size=reduced.full_size)[
        "predictions"].serialize()
    assert found_reduced["image"] == found_full["image"] == {"width": 3240, "height": 2160}
    forward, backward, count = detector.agreement([found_full["predictions"]], [found_reduced["predictions"]])
    assert count >= 4 and forward == backward == 1.0, (forward, backward, count)
    # matched at IoU >= 0.9, class for class: the boxes are in the full image's pixels; without the mapping
    # they would be a quarter of the size, in the top left corner
    unmapped = runner.run(reduced.array)["predictions"].serialize()["predictions"]
    assert detector.agreement([found_full["predictions"]], [unmapped])[0] == 0.0


def test_only_workflows_whose_models_alone_see_the_image_decode_it_smaller() -> None:
    assert only_models_see_the_image(compile_workflow(detect_workflow()))
    assert not only_models_see_the_image(compile_workflow(detect_workflow(visualise=True)))
    crop = detect_workflow()
    crop["steps"].append({"type": "roboflow_core/dynamic_crop@v1", "name": "crop", "image": "$inputs.image",
                          "predictions": "$steps.model.predictions"})
    assert not only_models_see_the_image(compile_workflow(crop))
    echo = detect_workflow()
    echo["outputs"].append({"type": "JsonField", "name": "source", "selector": "$inputs.image"})
    assert not only_models_see_the_image(compile_workflow(echo))


def test_jpegs_decode_to_the_same_pixels_whichever_decoder_and_orientation() -> None:
    image = cv2.resize(decoded(photo("zidane.jpg")), (640, 360))
    jpeg = cv2.imencode(".jpg", image)[1].tobytes()
    assert exif_orientation(jpeg) == 1 and exif_orientation(_with_orientation(jpeg, 8)) == 8
    assert exif_orientation(_with_orientation(jpeg, 1)) == 1
    plain = decode_image(jpeg).array  # libjpeg-turbo
    assert np.array_equal(plain, decoded(jpeg))  # OpenCV's decode, pixel for pixel
    turned = decode_image(_with_orientation(jpeg, 8)).array  # 90 degrees counter-clockwise, by OpenCV
    assert np.array_equal(turned, cv2.rotate(plain, cv2.ROTATE_90_COUNTERCLOCKWISE))
    gray = cv2.imencode(".jpg", np.full((20, 30), 90, np.uint8))[1].tobytes()
    assert decode_image(gray).array.shape == (20, 30, 3)
