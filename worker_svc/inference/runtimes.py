"""The runtimes a model can run on, behind the one session interface the models use (onnxruntime's).

* ``onnxruntime`` — the CPU execution provider (or CUDA's on a gpu worker with onnxruntime-gpu), fp32: the
  reference every other choice is checked against (``worker_svc.inference.gate``).
* ``openvino`` — Intel's runtime on CPU, in fp32 or in a precision the CPU computes faster: bf16 where it has
  AMX or AVX-512 BF16, fp16 where it has AVX-512 FP16 (as OpenVINO's ``OPTIMIZATION_CAPABILITIES`` reports).
  Its lanes are infer requests of one compiled model (one stream each), and compiled models are cached on
  disk per (model sha256, runtime, precision, device), so a restart does not compile again.
"""

from __future__ import annotations

import functools
import importlib.util
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import onnxruntime as ort

REFERENCE_PRECISION = "fp32"
_OPENVINO_PRECISION = {"fp32": "f32", "bf16": "bf16", "fp16": "f16"}


@dataclass(frozen=True)
class Execution:
    """How a model runs: which runtime, at which precision, on which device (``cpu`` or ``gpu``)."""

    runtime: str
    precision: str
    device: str

    @property
    def label(self) -> str:
        return f"{self.runtime} {self.precision} on {self.device}"

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


def reference(device: str) -> Execution:
    return Execution("onnxruntime", REFERENCE_PRECISION, device)


class IOInfo(Protocol):
    name: str
    shape: list[Any]


class Session(Protocol):
    """What the models call on a session: onnxruntime's ``InferenceSession`` has it, so does ``OpenVinoSession``."""

    def get_inputs(self) -> list[Any]: ...
    def get_outputs(self) -> list[Any]: ...
    def run(self, output_names: list[str] | None, feeds: dict[str, np.ndarray]) -> list[np.ndarray]: ...
    def get_providers(self) -> list[str]: ...


def openvino_installed() -> bool:
    return importlib.util.find_spec("openvino") is not None


@functools.cache
def cpu_capabilities() -> tuple[str, frozenset[str]]:
    """The CPU's name and what OpenVINO can accelerate on it (``BF16``, ``FP16``, ``INT8``, ...); empty
    without OpenVINO."""
    if not openvino_installed():
        return "", frozenset()
    import openvino as ov

    core = ov.Core()
    return str(core.get_property("CPU", "FULL_DEVICE_NAME")), frozenset(
        core.get_property("CPU", "OPTIMIZATION_CAPABILITIES"))


def precisions(runtime: str, device: str) -> list[str]:
    """The precisions ``runtime`` computes on this machine's ``device``, fastest first."""
    if runtime == "openvino" and device == "cpu" and openvino_installed():
        capabilities = cpu_capabilities()[1]
        return [p for p in ("bf16", "fp16") if p.upper() in capabilities] + ["fp32"]
    if runtime == "onnxruntime":
        return ["fp32"]
    return []


def choices(runtime: str, precision: str, device: str) -> list[Execution]:
    """The executions a worker set to ``runtime`` and ``precision`` (each may be ``auto``) may use, the expected
    fastest first, the reference last when it is among them. A setting this machine cannot honour is a
    ``ValueError`` that says why (the worker does not start)."""
    runtimes = [runtime] if runtime != "auto" else (["openvino"] if device == "cpu" and openvino_installed()
                                                     else []) + ["onnxruntime"]
    found: list[Execution] = []
    for name in runtimes:
        if name == "openvino" and not openvino_installed():
            raise ValueError("WORKER_RUNTIME=openvino needs the openvino package (pip install openvino)")
        if name == "openvino" and device != "cpu":
            raise ValueError("WORKER_RUNTIME=openvino runs on cpu workers; a gpu worker runs onnxruntime")
        native = precisions(name, device)
        # fp16 only when asked for on a CPU: on a Xeon with AVX-512 FP16, OpenVINO's fp16 ran YOLOv4-tiny at
        # 0.65x its fp32 (bf16: 3.8x), so trying it in the gate would only cost time
        wanted = [p for p in native if p != "fp16" or device != "cpu"] if precision == "auto" else [precision]
        unsupported = [p for p in wanted if p not in native]
        if unsupported and runtime != "auto":
            raise ValueError(f"{name} does not compute {unsupported[0]} on this {device} (it does: "
                             f"{', '.join(native)}); set WORKER_PRECISION to one of those or to auto")
        found += [Execution(name, p, device) for p in wanted if p in native]
    if not found:
        raise ValueError(f"no runtime here computes {precision} on {device} (WORKER_RUNTIME={runtime})")
    ref = reference(device)
    return [e for e in found if e != ref] + ([ref] if ref in found else [])


class _Port:
    def __init__(self, name: str, shape: list[Any]) -> None:
        self.name, self.shape = name, shape


class OpenVinoSession:
    """One infer request of a compiled OpenVINO model, answering as an onnxruntime session does: inputs and
    outputs by their ONNX names, dynamic dimensions as strings, outputs copied out of the request."""

    def __init__(self, compiled: Any, output_names: list[str]) -> None:
        self._compiled = compiled
        self._request = compiled.create_infer_request()
        self._lock = threading.Lock()  # one request runs one inference at a time
        self._outputs = [_Port(n, _dims(o.get_partial_shape())) for n, o in zip(output_names, compiled.outputs,
                                                                                  strict=True)]
        self._inputs = [_Port(i.get_any_name(), _dims(i.get_partial_shape())) for i in compiled.inputs]

    def another(self) -> OpenVinoSession:
        return OpenVinoSession(self._compiled, [o.name for o in self._outputs])

    def get_inputs(self) -> list[_Port]:
        return self._inputs

    def get_outputs(self) -> list[_Port]:
        return self._outputs

    def get_providers(self) -> list[str]:
        return ["OpenVINO"]

    def run(self, output_names: list[str] | None, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
        with self._lock:
            result = self._request.infer(feeds)  # copies the outputs (share_outputs=False)
            values = [result[i] for i in range(len(self._outputs))]
        if output_names is None:
            return values
        index = {o.name: i for i, o in enumerate(self._outputs)}
        return [values[index[n]] for n in output_names]


def _dims(shape: Any) -> list[Any]:
    return [d.get_length() if d.is_static else "?" for d in shape]


@dataclass(frozen=True)
class SessionOptions:
    threads: int | None  # per lane
    lanes: int
    spin: bool
    cache_dir: Path | None  # where compiled models are kept (None: not kept)
    sha256: str = ""


def opener(model_path: Path, execution: Execution, options: SessionOptions) -> Callable[[], Session]:
    """A function that opens one more session of the model (one per lane), all the same way."""
    if execution.runtime == "onnxruntime":
        return functools.partial(open_onnxruntime, model_path, options.threads, execution.device == "gpu",
                                 options.spin)
    if execution.runtime == "openvino":
        first = _open_openvino(model_path, execution, options)
        sessions = iter([first])
        return lambda: next(sessions, None) or first.another()
    raise ValueError(f"unknown runtime {execution.runtime!r}")


def _open_openvino(model_path: Path, execution: Execution, options: SessionOptions) -> OpenVinoSession:
    import onnx
    import openvino as ov

    core = ov.Core()
    if options.cache_dir is not None:
        folder = options.cache_dir / (options.sha256 or model_path.stem) / (
            f"{execution.runtime}-{execution.precision}-{execution.device}")
        folder.mkdir(parents=True, exist_ok=True)
        core.set_property({"CACHE_DIR": str(folder)})
    config = {"INFERENCE_PRECISION_HINT": _OPENVINO_PRECISION[execution.precision],
              "NUM_STREAMS": str(max(1, options.lanes))}
    if options.threads:
        config["INFERENCE_NUM_THREADS"] = str(options.threads * max(1, options.lanes))
    compiled = core.compile_model(str(model_path), "CPU", config)
    names = [o.name for o in onnx.load(str(model_path), load_external_data=False).graph.output]
    return OpenVinoSession(compiled, names)


def available_providers(prefer_gpu: bool = True) -> list[str]:
    have = ort.get_available_providers()
    wanted = ["CUDAExecutionProvider", "CPUExecutionProvider"] if prefer_gpu else ["CPUExecutionProvider"]
    return [p for p in wanted if p in have] or ["CPUExecutionProvider"]


def open_onnxruntime(model_path: Path, threads: int | None, prefer_gpu: bool,
                     spin: bool = True) -> ort.InferenceSession:
    """An onnxruntime session with every graph optimisation; older onnxruntime releases (the one the
    Workflows Execution Engine pins, say) break some graphs in their fusions, so fall back to basic ones.
    ``spin=False`` stops idle intra-op threads busy-waiting: a process that decodes and does I/O beside
    inference on the same cores (a worker) gets those cycles back."""
    for level in (ort.GraphOptimizationLevel.ORT_ENABLE_ALL, ort.GraphOptimizationLevel.ORT_ENABLE_BASIC):
        opts = ort.SessionOptions()
        if threads:
            opts.intra_op_num_threads = threads
        opts.graph_optimization_level = level
        if not spin:
            opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        try:
            return ort.InferenceSession(str(model_path), opts, providers=available_providers(prefer_gpu))
        except Exception:
            if level == ort.GraphOptimizationLevel.ORT_ENABLE_BASIC:
                raise
    raise AssertionError("unreachable")


def fingerprint(candidates: list[Execution]) -> dict[str, Any]:
    """What a gate verdict depends on besides the model: the machine, the runtimes' versions, the candidates."""
    name, capabilities = cpu_capabilities()
    versions = {"onnxruntime": ort.__version__}
    if openvino_installed():
        import openvino as ov

        versions["openvino"] = ov.get_version()
    return {"cpu": name, "capabilities": sorted(capabilities), "versions": versions,
            "candidates": [e.label for e in candidates]}
