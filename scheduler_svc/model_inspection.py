"""Checking an uploaded ONNX model before anything trusts it: the graph read without running it, then a session
opened and run on one image of its input size — in a child process with a memory limit, never in the
scheduler, since a file of a few hundred bytes can build a tensor of gigabytes when it is loaded
(``python -m scheduler_svc.model_inspection`` is that child).

Read from the graph: no tensor's data outside the file (onnxruntime would read it from the scheduler's disk),
declared constants within ``MAX_MODEL_BYTES``, one image input of at most ``MAX_INPUT_SIDE`` a side. What only
a run can show (constant folding, shape ops that expand a small constant) meets the child's limit:
``memory_limit_bytes`` of heap, 768 MiB beside four times the model's size by default
(``SCHEDULER_MODEL_CHECK_MEMORY_MB``), and ``SCHEDULER_MODEL_CHECK_TIMEOUT_S`` of time.
"""

from __future__ import annotations

import asyncio
import json
import math
import resource
import sys
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort

from shared.errors import InvalidInput

MAX_MODEL_BYTES = 1024**3


def _tensors(graph: onnx.GraphProto) -> list[onnx.TensorProto]:
    """Every tensor stored in the graph, its subgraphs' (If, Loop, Scan) included."""
    found = list(graph.initializer) + [s.values for s in graph.sparse_initializer]
    for node in graph.node:
        for attr in node.attribute:
            found += [attr.t] if attr.HasField("t") else []
            found += list(attr.tensors)
            found += [attr.sparse_tensor.values] if attr.HasField("sparse_tensor") else []
            for sub in [attr.g] if attr.HasField("g") else list(attr.graphs):
                found += _tensors(sub)
    return found


def check_constants(graph: onnx.GraphProto) -> None:
    """Refuse tensors whose data lies outside the file, and constants past the model size limit."""
    declared = 0
    for tensor in _tensors(graph):
        if tensor.data_location == onnx.TensorProto.EXTERNAL or tensor.external_data:
            raise InvalidInput(f"tensor {tensor.name or '(unnamed)'} keeps its data outside the file; upload "
                               "one self-contained .onnx file")
        itemsize = np.dtype(onnx.helper.tensor_dtype_to_np_dtype(tensor.data_type)).itemsize \
            if tensor.data_type else 1
        declared += math.prod(tensor.dims) * itemsize
    if declared > MAX_MODEL_BYTES:
        raise InvalidInput(f"the model's constants declare {declared} bytes; models are limited to 1 GiB")


MAX_INPUT_SIDE = 4096  # an image model's declared input side; high-resolution images are sliced (SAHI)


def declared_input(path: Path) -> list[int | str]:
    """The input's declared shape, read from the graph without a session: a model that declares a huge input
    is refused before onnxruntime allocates anything for it."""
    try:
        graph = onnx.load(str(path), load_external_data=False).graph
    except Exception as exc:
        raise InvalidInput(f"the file is not an ONNX model: {str(exc)[:300]}") from None
    check_constants(graph)
    initializers = {i.name for i in graph.initializer}
    inputs = [i for i in graph.input if i.name not in initializers]
    if len(inputs) != 1:
        raise InvalidInput("the model must take one image input of shape [N, 3, H, W]")
    return [d.dim_value if d.HasField("dim_value") else (d.dim_param or "?")
            for d in inputs[0].type.tensor_type.shape.dim]


# object detection ([N, 4 + C, A] or boxes and scores), instance segmentation (YOLOv8/YOLO11-seg: [N, 4 + C + M, A]
# and M mask prototypes [N, M, h, w]), keypoint detection (YOLOv8/YOLO11-pose: [N, 4 + C + 3 K, A], each keypoint
# x, y, confidence), single-label classification ([N, C] scores or logits, softmax), multi-label classification
# ([N, C] probabilities or logits, one sigmoid per class)
TASKS = ("object-detection", "instance-segmentation", "keypoint-detection", "classification",
         "multi-label-classification")


def inspect_model(path: Path, task: str, class_names: list[str], keypoint_names: list[str] | None = None,
                  ) -> tuple[str, int]:
    """Check an ONNX model loads and fits its declaration; returns (layout, input size). Blocking: run it in a
    thread."""
    if keypoint_names and task != "keypoint-detection":  # accepted, they would be stored and never read
        raise InvalidInput("keypointNames is for keypoint detection models (task keypoint-detection)")
    shape = declared_input(path)
    if len(shape) != 4 or shape[1] not in (3, "?"):
        raise InvalidInput(f"the model must take one image input of shape [N, 3, H, W], not {shape}")
    if any(isinstance(side, int) and side > MAX_INPUT_SIDE for side in shape[2:]):
        raise InvalidInput(f"the model's input is {shape[2]}x{shape[3]}; at most {MAX_INPUT_SIDE} pixels a side")
    options = ort.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1  # one image: threads would only add memory
    try:
        session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except Exception as exc:
        raise InvalidInput(f"the model does not load in onnxruntime: {str(exc)[:300]}") from None
    inputs = session.get_inputs()
    if len(inputs) != 1 or len(inputs[0].shape) != 4:
        raise InvalidInput("the model must take one image input of shape [N, 3, H, W]")
    size = inputs[0].shape[2] if isinstance(inputs[0].shape[2], int) else 640
    outputs = {o.name: o.shape for o in session.get_outputs()}
    probe = np.zeros((1, 3, size, size), np.float32)
    try:
        results = dict(zip(outputs, session.run(None, {inputs[0].name: probe}), strict=True))
    except Exception as exc:  # a graph that loads but cannot run on an image of its own input size
        raise InvalidInput(f"the model fails on a {size}x{size} image: {str(exc)[:300]}") from None
    if task in ("classification", "multi-label-classification"):
        if len(results) != 1:
            raise InvalidInput(f"a classification model must have one output of class scores, not {len(results)}")
        (scores,) = results.values()
        if scores.reshape(1, -1).shape[1] != len(class_names):
            raise InvalidInput(f"the model scores {scores.reshape(1, -1).shape[1]} classes, "
                               f"classNames lists {len(class_names)}")
        return task, int(size)
    if task == "keypoint-detection":
        if len(results) != 1 or next(iter(results.values())).ndim != 3:
            raise InvalidInput("a keypoint detection model must output [N, 4 + C + 3 K, A] (the YOLOv8/YOLO11-pose "
                               "layout: box, class scores, then x, y, confidence of each keypoint)")
        channels = next(iter(results.values())).shape[1] - 4 - len(class_names)
        if channels <= 0 or channels % 3:
            raise InvalidInput(f"the model's {channels + len(class_names)} channels after the box are not "
                               f"{len(class_names)} class scores and 3 per keypoint: check classNames")
        if len(keypoint_names or []) != channels // 3:
            raise InvalidInput(f"the model has {channels // 3} keypoints, keypointNames lists "
                               f"{len(keypoint_names or [])} (name them in output order, e.g. nose,left_eye,...)")
        return "yolov8-pose", int(size)
    if task == "instance-segmentation":
        ranks = sorted(r.ndim for r in results.values())
        if ranks != [3, 4]:
            raise InvalidInput("an instance segmentation model must output [N, 4 + C + M, A] and mask prototypes "
                               "[N, M, h, w] (the YOLOv8/YOLO11-seg layout)")
        out = next(r for r in results.values() if r.ndim == 3)
        protos = next(r for r in results.values() if r.ndim == 4)
        classes = out.shape[1] - 4 - protos.shape[1]
        if classes != len(class_names):
            raise InvalidInput(f"the model segments {classes} classes, classNames lists {len(class_names)}")
        return "yolov8-seg", int(size)
    if {"boxes", "scores"} <= set(results):
        classes = results["scores"].shape[-1]
        layout = "boxes-scores"
    elif len(results) == 1:
        (out,) = results.values()
        if out.ndim != 3:
            raise InvalidInput("a detection model must output [N, 4 + C, A] (YOLOv8 layout) or boxes and scores")
        classes = out.shape[1] - 4
        layout = "yolov8"
    else:
        raise InvalidInput("a detection model must output [N, 4 + C, A] (YOLOv8 layout) or boxes and scores")
    if classes != len(class_names):
        raise InvalidInput(f"the model detects {classes} classes, classNames lists {len(class_names)}")
    return layout, int(size)


# how onnxruntime and numpy say an allocation failed (the child's heap limit, as far as they can tell)
_OUT_OF_MEMORY = ("Failed to allocate memory", "bad_alloc", "MemoryError", "Unable to allocate")


def memory_limit_bytes(model_bytes: int, base_mb: int) -> int:
    """The heap the checking child may use: a base for the interpreter, onnxruntime and one image, and four
    times the model (its weights, their copy in the session, and the arena)."""
    return base_mb * 1024 * 1024 + 4 * model_bytes


async def inspect_in_child(path: Path, task: str, class_names: list[str], keypoint_names: list[str] | None, *,
                           memory_bytes: int, timeout_s: float) -> tuple[str, int]:
    """``inspect_model`` in a child process limited to ``memory_bytes`` of heap and ``timeout_s``."""

    def limit() -> None:  # in the child, before it runs anything
        resource.setrlimit(resource.RLIMIT_DATA, (memory_bytes, memory_bytes))

    child = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "scheduler_svc.model_inspection", str(path), task, json.dumps(class_names),
        json.dumps(keypoint_names), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        preexec_fn=limit)
    try:
        out, err = await asyncio.wait_for(child.communicate(), timeout_s)
    except TimeoutError:
        child.kill()
        await child.wait()
        raise InvalidInput(f"the model took more than {timeout_s:g} s to load and run on one image") from None
    try:
        answer = json.loads(out.decode().strip().splitlines()[-1])
    except (ValueError, IndexError):
        answer = {}
    refused = str(answer.get("error", ""))
    if refused and not any(sign in refused for sign in _OUT_OF_MEMORY):
        raise InvalidInput(refused)
    if "layout" in answer:
        return str(answer["layout"]), int(answer["size"])
    # killed, or out of memory inside onnxruntime or numpy: the limit, whatever the library said
    raise InvalidInput(f"the model needs more than {memory_bytes // 2**20} MiB to load and run on one image "
                       f"(exit {child.returncode}: {(refused or err.decode(errors='replace')).strip()[-200:]})")


def _main(argv: list[str]) -> None:
    path, task, names, keypoints = argv
    try:
        layout, size = inspect_model(Path(path), task, json.loads(names), json.loads(keypoints))
    except InvalidInput as exc:
        print(json.dumps({"error": exc.message}))
    except MemoryError:
        print(json.dumps({"error": "MemoryError"}))
    else:
        print(json.dumps({"layout": layout, "size": size}))


if __name__ == "__main__":
    _main(sys.argv[1:])
