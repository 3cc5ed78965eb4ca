"""Re-head a converted detector for other tools: the YOLOv8 output layout.

Conveyor's darknet conversion outputs ``boxes`` [N, A, 4] (x1y1x2y2, input pixels) and ``scores`` [N, A, C].
Roboflow ``inference`` (its ``yolov8`` object-detection models), Ultralytics tooling and Conveyor's own
``yolov8`` layout read one output [N, 4 + C, A] of centre x, centre y, width, height and class scores. The
same network with that head is what lets a peer tool run *the same model* in ``bench.throughput``; the extra
nodes are element-wise and a transpose, nothing next to the network.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import helper, numpy_helper

OUTPUT = "output0"


def with_yolov8_head(source: Path, target: Path) -> Path:
    model = onnx.load(str(source))
    graph = model.graph
    names = {o.name for o in graph.output}
    if not {"boxes", "scores"} <= names:
        raise ValueError(f"{source} has no boxes/scores outputs (it has {sorted(names)})")
    consts = {"yv8_lo": [0], "yv8_mid": [2], "yv8_hi": [4], "yv8_axis": [2]}
    for name, value in consts.items():
        graph.initializer.append(numpy_helper.from_array(np.array(value, np.int64), name))
    graph.initializer.append(numpy_helper.from_array(np.array(0.5, np.float32), "yv8_half"))
    graph.node.extend([
        helper.make_node("Slice", ["boxes", "yv8_lo", "yv8_mid", "yv8_axis"], ["yv8_x1y1"], name="yv8_x1y1"),
        helper.make_node("Slice", ["boxes", "yv8_mid", "yv8_hi", "yv8_axis"], ["yv8_x2y2"], name="yv8_x2y2"),
        helper.make_node("Add", ["yv8_x1y1", "yv8_x2y2"], ["yv8_sum"], name="yv8_sum"),
        helper.make_node("Mul", ["yv8_sum", "yv8_half"], ["yv8_cxcy"], name="yv8_cxcy"),
        helper.make_node("Sub", ["yv8_x2y2", "yv8_x1y1"], ["yv8_wh"], name="yv8_wh"),
        helper.make_node("Concat", ["yv8_cxcy", "yv8_wh", "scores"], ["yv8_all"], name="yv8_all", axis=2),
        helper.make_node("Transpose", ["yv8_all"], [OUTPUT], name=OUTPUT, perm=[0, 2, 1]),
    ])
    del graph.output[:]
    graph.output.append(helper.make_tensor_value_info(OUTPUT, onnx.TensorProto.FLOAT, ["batch", "values", "anchors"]))
    onnx.checker.check_model(model)
    target.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(target))
    return target
