"""INT8: would post-training quantization of the default network pay on this machine?

    .venv/bin/pip install -e '.[int8]'     # NNCF, once
    .venv/bin/python -m bench.int8 [--images 500] [--repeats 3] [--accuracy-control]

The network (YOLOv4-tiny@416, as every benchmark runs it) is quantized by NNCF on a calibration sample of the
benchmark's real images (the odd ones), the way a worker would on a sample of the user's batch, and then:
* its speed, model only (one stream, one thread, batch 1, the same letterboxed image), beside onnxruntime fp32
  and OpenVINO fp32 and bf16 — ``--repeats`` runs each, median and spread;
* the accuracy gate's figures (``worker_svc.inference.gate``) on the held-out images (the even ones): the share
  of onnxruntime fp32's detections (confidence >= 0.25) matched by one of the same class at IoU >= 0.9, and the
  reverse; 97 % both ways makes a candidate eligible.
``--accuracy-control N`` also runs NNCF's accuracy-controlled quantization on N held-out images, with the gate's
figure (the lower of the two shares) as its metric and a 3-point allowed drop: how many convolutions it must keep
in floating point.
Written to bench/results/int8.json.
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

import numpy as np

from bench.common import decode, real_images, report
from scheduler_svc.default_model import ensure_default_model
from shared.config import ServiceSettings
from worker_svc.inference.detector import OnnxDetector
from worker_svc.inference.gate import PASS_SHARE
from worker_svc.inference.runtimes import OpenVinoSession, Session, cpu_capabilities, open_onnxruntime

RUNS_PER_TIMING = 200


def model_only(session: Session, batch: np.ndarray) -> float:
    """Inferences per second of ``session`` on one letterboxed image, after its first runs."""
    feeds = {session.get_inputs()[0].name: batch}
    for _ in range(5):
        session.run(None, feeds)
    started = time.perf_counter()
    for _ in range(RUNS_PER_TIMING):
        session.run(None, feeds)
    return RUNS_PER_TIMING / (time.perf_counter() - started)


def one_stream(core: Any, model: Any, hint: str) -> Any:
    """``model`` compiled as every execution here is timed: one stream, one thread, at ``hint`` precision."""
    return core.compile_model(model, "CPU", {"INFERENCE_PRECISION_HINT": hint, "NUM_STREAMS": "1",
                                             "INFERENCE_NUM_THREADS": "1"})


def main() -> None:
    import nncf
    import onnx
    import openvino as ov

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=500)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--accuracy-control", type=int, default=0, metavar="N",
                        help="also NNCF's accuracy-controlled quantization, validated on N held-out images "
                             "(each of its steps runs them all: about 10 minutes with 120 on two cores)")
    args = parser.parse_args()
    model = ensure_default_model(ServiceSettings().cache_dir / "models")
    detector = OnnxDetector(model.onnx_path, model.class_names, input_size=model.input_size, threads=1,
                            prefer_gpu=False)
    images = [decode(f.read_bytes()) for f in real_images(args.images)]
    calibration, held_out = images[1::2], images[0::2]
    samples = [detector.preprocess([image])[0] for image in calibration]
    outputs = [o.name for o in onnx.load(str(model.onnx_path), load_external_data=False).graph.output]
    core = ov.Core()
    network = core.read_model(str(model.onnx_path))

    def on_openvino(compiled_from: Any, hint: str) -> OpenVinoSession:
        return OpenVinoSession(one_stream(core, compiled_from, hint), outputs)

    quantized: dict[str, Any] = {}
    quantize_s: dict[str, float] = {}
    for preset in ("performance", "mixed"):
        started = time.perf_counter()
        quantized[f"int8 ({preset} preset)"] = nncf.quantize(
            network, nncf.Dataset(samples), subset_size=len(samples),
            preset=nncf.QuantizationPreset(preset))
        quantize_s[f"int8 ({preset} preset)"] = time.perf_counter() - started
    reference = detector.gate_outputs(held_out, detector.session)

    def gate(session: Session) -> tuple[float, float, int]:
        return detector.agreement(reference, detector.gate_outputs(held_out, session))

    sessions: dict[str, Session] = {
        "onnxruntime fp32": open_onnxruntime(model.onnx_path, 1, prefer_gpu=False),
        "openvino fp32": on_openvino(network, "f32"), "openvino bf16": on_openvino(network, "bf16"),
        **{f"openvino {name}": on_openvino(q, "bf16") for name, q in quantized.items()}}
    batch = samples[0]
    results: dict[str, dict[str, Any]] = {}
    for name, session in sessions.items():
        runs = [model_only(session, batch) for _ in range(args.repeats)]
        matched, matched_back, findings = gate(session)
        results[name] = {"runs_per_s": runs, "per_s": statistics.median(runs), "matched": matched,
                         "matched_back": matched_back, "reference_findings": findings,
                         "passes": matched >= PASS_SHARE and matched_back >= PASS_SHARE,
                         "quantize_s": quantize_s.get(name.removeprefix("openvino "))}
        print(f"{name}: {results[name]['per_s']:.1f}/s, matched {matched:.1%} / {matched_back:.1%}", flush=True)
    controlled = None
    if args.accuracy_control:
        few = held_out[:args.accuracy_control]
        controlled = accuracy_controlled(nncf, network, samples, few, detector,
                                         reference[:args.accuracy_control], outputs, core)
    base = results["onnxruntime fp32"]["per_s"]
    name, capabilities = cpu_capabilities()
    rows = [("machine", f"{name}; OpenVINO can accelerate: {', '.join(sorted(capabilities))}"),
            ("calibration / held-out images", f"{len(calibration)} / {len(held_out)} real photos and frames")]
    for label, r in results.items():
        spread = f"{min(r['runs_per_s']):.1f}-{max(r['runs_per_s']):.1f}"
        rows.append((f"{label}: model only, 1 thread", f"{r['per_s']:.1f}/s ({spread}) = {r['per_s'] / base:.2f}x "
                     f"onnxruntime fp32; gate {r['matched']:.1%} / {r['matched_back']:.1%} of "
                     f"{r['reference_findings']}: {'passes' if r['passes'] else 'fails'}"))
    for label, seconds in quantize_s.items():
        rows.append((f"{label}: quantization time", f"{seconds:.1f} s on {len(samples)} images"))
    if controlled is not None:
        rows.append(("accuracy-controlled int8 (3-point drop)",
                     f"{controlled['kept_float']} of {controlled['convolutions']} convolutions kept in floating point, "
                     f"gate {controlled['metric']:.1%} on {args.accuracy_control} images, {controlled['per_s']:.1f}/s, "
                     f"{controlled['seconds']:.0f} s"))
    report("int8", rows, {"calibration_images": len(calibration), "held_out_images": len(held_out),
                          "cpu": {"name": name, "openvino_capabilities": sorted(capabilities)},
                          "repeats": args.repeats, "results": results, "accuracy_controlled": controlled})


def accuracy_controlled(nncf: Any, network: Any, samples: list[np.ndarray], held_out: list[np.ndarray],
                        detector: OnnxDetector, reference: list[Any], outputs: list[str],
                        core: Any) -> dict[str, Any]:
    """NNCF's accuracy-controlled quantization, the gate's lower share as its metric: what it keeps in fp."""
    def metric(compiled: Any, _data: Any) -> float:
        matched, matched_back, _ = detector.agreement(
            reference, detector.gate_outputs(held_out, OpenVinoSession(compiled, outputs)))
        return min(matched, matched_back)

    started = time.perf_counter()
    model = nncf.quantize_with_accuracy_control(
        network, nncf.Dataset(samples), nncf.Dataset(held_out), validation_fn=metric, max_drop=1 - PASS_SHARE,
        drop_type=nncf.DropType.ABSOLUTE, subset_size=len(samples))
    seconds = time.perf_counter() - started
    convolutions = [op for op in model.get_ops() if op.get_type_name() == "Convolution"]
    # a convolution runs in int8 where its input comes through a FakeQuantize
    int8 = sum(op.input_value(0).get_node().get_type_name() == "FakeQuantize" for op in convolutions)
    compiled = one_stream(core, model, "bf16")
    return {"seconds": seconds, "convolutions": len(convolutions), "kept_float": len(convolutions) - int8,
            "metric": metric(compiled, None), "per_s": model_only(OpenVinoSession(compiled, outputs), samples[0])}


if __name__ == "__main__":
    main()
