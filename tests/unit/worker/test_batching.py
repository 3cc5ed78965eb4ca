"""Dynamic batching: concurrent callers share model runs and each gets exactly its own rows back."""

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from scheduler_svc.default_model import ensure_default_model, sample_photos
from tests.fixtures.media import decoded
from worker_svc.inference.batching import DynamicBatcher
from worker_svc.inference.detector import OnnxDetector
from worker_svc.inference.runtimes import Session


class RecordingModel:
    """Doubles each input row and records the batch sizes it was called with."""

    def __init__(self) -> None:
        self.sizes: list[int] = []
        self.gate = threading.Event()

    def __call__(self, inputs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        self.gate.wait(5)
        self.sizes.append(len(inputs))
        return inputs * 2, inputs.sum(axis=1)


def test_concurrent_callers_are_batched_and_get_their_own_rows() -> None:
    model = RecordingModel()
    batcher = DynamicBatcher([model], max_batch=4, max_wait_s=0.2)
    inputs = [np.full((1, 3), i, np.float32) for i in range(8)]
    with ThreadPoolExecutor(8) as pool:
        futures = [pool.submit(batcher, x) for x in inputs]
        model.gate.set()
        results = [f.result(10) for f in futures]
    for i, (doubled, summed) in enumerate(results):
        assert doubled.tolist() == [[2 * i] * 3] and summed.tolist() == [3 * i]
    assert sum(model.sizes) == 8 and max(model.sizes) == 4 and len(model.sizes) < 8
    assert all(size <= 4 for size in model.sizes)
    batcher.close()


def test_a_request_larger_than_the_batch_runs_alone() -> None:
    model = RecordingModel()
    model.gate.set()
    batcher = DynamicBatcher([model], max_batch=2, max_wait_s=0.01)
    doubled, _ = batcher(np.ones((5, 2), np.float32))
    assert doubled.shape == (5, 2) and model.sizes == [5]
    batcher.close()


def test_a_failing_run_fails_every_caller_of_its_batch_and_the_next_batch_still_runs() -> None:
    calls = []

    def flaky(inputs: np.ndarray) -> tuple[np.ndarray]:
        calls.append(len(inputs))
        if len(calls) == 1:
            raise ValueError("bad tensor")
        return (inputs,)

    batcher = DynamicBatcher([flaky], max_batch=8, max_wait_s=0.01)
    with pytest.raises(ValueError, match="bad tensor"):
        batcher(np.zeros((1, 1)))
    (out,) = batcher(np.ones((1, 1)))
    assert out.tolist() == [[1.0]]
    batcher.close()


def test_a_closed_batcher_still_serves_its_callers_unbatched() -> None:
    model = RecordingModel()
    model.gate.set()
    batcher = DynamicBatcher([model], max_batch=4)
    batcher.close()
    doubled, _ = batcher(np.ones((1, 2), np.float32))
    assert doubled.tolist() == [[2.0, 2.0]]


def test_lanes_run_batches_at_the_same_time() -> None:
    barrier = threading.Barrier(2, timeout=5)  # passes only if both lanes are inside a run together

    def lane(inputs: np.ndarray) -> tuple[np.ndarray]:
        barrier.wait()
        return (inputs + 1,)

    batcher = DynamicBatcher([lane, lane], max_batch=1)
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(batcher, [np.zeros((1, 1)), np.ones((1, 1))]))
    assert sorted(float(out[0][0, 0]) for out in results) == [1.0, 2.0]
    batcher.close()


def test_many_images_of_one_caller_are_shared_out_among_the_lanes_in_order() -> None:
    """The slices or crops of one image: cut into batches of at most max_batch, run on every lane at once."""
    started = threading.Barrier(2, timeout=5)  # both lanes must be running at the same time to pass it
    lanes_seen: list[str] = []

    def lane(inputs: np.ndarray) -> tuple[np.ndarray]:
        lanes_seen.append(threading.current_thread().name)
        if len(lanes_seen) <= 2:
            started.wait()
        return (inputs * 10,)

    batcher = DynamicBatcher([lane, lane], max_batch=2, max_wait_s=0.0, name="m")
    (out,) = batcher.map(np.arange(7, dtype=np.float32).reshape(7, 1))
    assert out.ravel().tolist() == [0, 10, 20, 30, 40, 50, 60]  # every row, in order
    assert batcher.batches == 4 and len(set(lanes_seen)) == 2
    # on both sides of the batch size: exactly max_batch is one run, one more is two
    (two,) = batcher.map(np.ones((2, 1), np.float32))
    assert two.ravel().tolist() == [10, 10] and batcher.batches == 5
    (three,) = batcher.map(np.ones((3, 1), np.float32))
    assert three.ravel().tolist() == [10, 10, 10] and batcher.batches == 7
    batcher.close()


def test_batched_detector_gives_the_same_detections_as_single_runs(tmp_path: Path) -> None:
    model = ensure_default_model(tmp_path)
    plain = OnnxDetector(model.onnx_path, model.class_names, input_size=model.input_size, threads=2)
    batched = OnnxDetector(model.onnx_path, model.class_names, input_size=model.input_size, threads=2)
    batched.enable_batching(8, max_wait_s=0.05, lanes=2)
    images = [decoded(p.read_bytes()) for p in sample_photos()] * 3
    with ThreadPoolExecutor(len(images)) as pool:
        together = list(pool.map(lambda img: batched.detect([img], confidence=0.3)[0], images))
    assert batched.batcher is not None and batched.batcher.lanes == 2
    assert batched.batcher.batches < len(images) and batched.batcher.items == len(images)
    for image, found in zip(images, together, strict=True):
        (alone,) = plain.detect([image], confidence=0.3)
        assert [d["class"] for d in found] == [d["class"] for d in alone] and found
        assert np.allclose([d["x"] for d in found], [d["x"] for d in alone], atol=0.5)
    batched.close()


def test_warm_up_runs_a_blank_image_through_every_lanes_session(tmp_path: Path) -> None:
    model = ensure_default_model(tmp_path)
    detector = OnnxDetector(model.onnx_path, model.class_names, input_size=model.input_size, threads=1)
    detector.enable_batching(1, lanes=3)
    infer = detector.infer
    ran: list[tuple[Session | None, tuple[int, ...]]] = []

    def recording(batch: np.ndarray, session: Session | None = None) -> tuple[np.ndarray, ...]:
        ran.append((session, batch.shape))
        return infer(batch, session=session)

    detector.infer = recording  # type: ignore[method-assign]
    detector.warm_up()
    assert len(detector.sessions) == 3 and detector.sessions[0] is detector.session
    assert [s for s, _ in ran] == detector.sessions  # each lane's own session, once
    assert {shape for _, shape in ran} == {(1, 3, model.input_size, model.input_size)}
    detector.close()


def test_worker_lanes_default_to_one_per_core_on_cpu_and_batches_on_gpu() -> None:
    from worker_svc.config import WorkerSettings

    cores = os.cpu_count() or 1
    cpu = WorkerSettings(machine_type="cpu")
    assert (cpu.lanes, cpu.batch, cpu.session_threads) == (cores, 1, 1)
    assert cpu.in_flight == 2 * cores  # every lane busy, as many images again in pre/post-processing
    gpu = WorkerSettings(machine_type="gpu")
    assert (gpu.lanes, gpu.batch, gpu.session_threads, gpu.in_flight) == (1, 8, cores, 16)
    tuned = WorkerSettings(machine_type="cpu", inference_lanes=1, ort_threads=4, batch_size=4)
    assert (tuned.lanes, tuned.batch, tuned.session_threads, tuned.in_flight) == (1, 4, 4, 8)
