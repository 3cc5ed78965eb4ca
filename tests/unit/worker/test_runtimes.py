"""The runtimes behind the model interface: what each setting may use, OpenVINO answering as onnxruntime does,
compiled models cached per (sha256, runtime, precision, device), and a model moved to another runtime."""

from pathlib import Path

import numpy as np
import pytest

from scheduler_svc.default_model import DefaultModel, ensure_default_model, sample_photos
from tests.fixtures.media import decoded
from worker_svc.inference.detector import OnnxDetector
from worker_svc.inference.runtimes import Execution, choices, cpu_capabilities, opener, precisions, reference
from worker_svc.inference.session_model import SessionOptions

BF16 = "BF16" in cpu_capabilities()[1]


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> DefaultModel:
    return ensure_default_model(tmp_path_factory.mktemp("cache"))


def _photos() -> list[np.ndarray]:
    return [decoded(p.read_bytes()) for p in sample_photos()]


def test_each_setting_uses_what_this_machine_can_and_refuses_what_it_cannot() -> None:
    assert choices("onnxruntime", "fp32", "cpu") == [reference("cpu")]
    assert choices("onnxruntime", "auto", "gpu") == [reference("gpu")]
    auto = choices("auto", "auto", "cpu")
    assert auto[-1] == reference("cpu")  # the reference last: the gate measures every other against it
    assert Execution("openvino", "fp32", "cpu") in auto
    assert (Execution("openvino", "bf16", "cpu") in auto) == BF16
    assert all(e.precision != "fp16" for e in auto)  # emulated on CPUs: never tried by auto
    assert choices("auto", "auto", "gpu") == [reference("gpu")]  # OpenVINO serves cpu workers
    with pytest.raises(ValueError, match="onnxruntime does not compute bf16 on this cpu"):
        choices("onnxruntime", "bf16", "cpu")
    with pytest.raises(ValueError, match="openvino runs on cpu workers"):
        choices("openvino", "auto", "gpu")
    if BF16:
        assert choices("auto", "bf16", "cpu") == [Execution("openvino", "bf16", "cpu")]
        assert precisions("openvino", "cpu")[0] == "bf16"
    else:
        with pytest.raises(ValueError, match="no runtime here computes bf16"):
            choices("auto", "bf16", "cpu")


def test_openvino_answers_as_onnxruntime_does_and_keeps_the_compiled_model(model: DefaultModel,
                                                                          tmp_path: Path) -> None:
    options = SessionOptions(threads=1, lanes=2, spin=False, cache_dir=tmp_path, sha256="abc123")
    open_ov = opener(model.onnx_path, Execution("openvino", "fp32", "cpu"), options)
    ov, second = open_ov(), open_ov()
    ort = opener(model.onnx_path, reference("cpu"), options)()
    assert [o.name for o in ov.get_outputs()] == [o.name for o in ort.get_outputs()] == ["boxes", "scores"]
    assert [i.name for i in ov.get_inputs()] == [i.name for i in ort.get_inputs()]
    assert ov.get_inputs()[0].shape[1:] == [3, 416, 416] and not isinstance(ov.get_inputs()[0].shape[0], int)
    batch = np.random.default_rng(0).random((2, 3, 416, 416), dtype=np.float32)
    boxes_ov, scores_ov = ov.run(None, {"images": batch})
    boxes_ort, scores_ort = ort.run(None, {"images": batch})
    assert boxes_ov.shape == boxes_ort.shape and np.abs(boxes_ov - boxes_ort).max() < 0.05  # pixels
    assert np.abs(scores_ov - scores_ort).max() < 1e-3
    (scores_only,) = second.run(["scores"], {"images": batch[:1]})  # another lane: its own request
    assert np.allclose(scores_only, scores_ov[:1], atol=1e-5)
    # compiled once into the model's own folder; a second compilation loads it from there
    folder = tmp_path / "abc123" / "openvino-fp32-cpu"
    blobs = sorted(folder.iterdir())
    assert blobs
    opener(model.onnx_path, Execution("openvino", "fp32", "cpu"), options)()
    assert sorted(folder.iterdir()) == blobs


def test_a_model_moves_to_another_runtime_with_its_lanes_and_finds_the_same(model: DefaultModel,
                                                                             tmp_path: Path) -> None:
    detector = OnnxDetector(model.onnx_path, model.class_names, input_size=model.input_size, threads=1,
                            prefer_gpu=False, cache_dir=tmp_path, sha256="m")
    detector.enable_batching(1, lanes=2)
    photos = _photos()
    before = detector.detect(photos, confidence=0.3)
    target = Execution("openvino", "bf16" if BF16 else "fp32", "cpu")
    detector.switch(target)
    assert detector.execution == target and len(detector.sessions) == 2
    assert detector.batcher is not None and detector.batcher.lanes == 2
    after = detector.detect(photos, confidence=0.3)
    forward, backward, found = detector.agreement(before, after)
    assert found >= 6 and forward >= 0.9 and backward >= 0.9, (forward, backward, found)
    detector.close()


def test_int8_and_tensorrt_are_refused_at_start_with_the_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    from pydantic import ValidationError

    from worker_svc.config import WorkerSettings

    monkeypatch.setenv("WORKER_PRECISION", "int8")
    with pytest.raises(ValidationError, match=r"int8 is not offered: post-training quantization \(NNCF\)"):
        WorkerSettings()
    monkeypatch.setenv("WORKER_RUNTIME", "tensorrt")
    monkeypatch.setenv("WORKER_PRECISION", "auto")
    with pytest.raises(ValidationError, match="tensorrt is not offered: gpu workers run onnxruntime's CUDA"):
        WorkerSettings()
    monkeypatch.delenv("WORKER_RUNTIME")
    monkeypatch.setenv("WORKER_PRECISION", "bf16")
    assert WorkerSettings().precision == "bf16"
