"""Darknet (.cfg + .weights) to ONNX for tiny YOLO models (YOLOv4-tiny, YOLOv3-tiny); numpy + onnx only.

The graph takes ``images`` float32 [N, 3, S, S] (RGB, 0..1) and returns ``boxes`` [N, A, 4]
(x1, y1, x2, y2 in input pixels) and ``scores`` [N, A, C] (objectness x class probability): batch
normalisation is folded into the convolutions and the YOLO decode runs inside the graph, so only NMS is
left to the caller. Checked bit-exact against OpenCV's Darknet reader (see shared research notes).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

DARKNET_BN_EPS = 1e-5


def parse_cfg(text: str) -> list[dict[str, str]]:
    blocks: list[dict[str, str]] = []
    for raw in text.splitlines():
        line = raw.split("#")[0].strip()
        if not line:
            continue
        if line.startswith("["):
            blocks.append({"type": line[1:-1].strip()})
        else:
            k, v = line.split("=", 1)
            blocks[-1][k.strip()] = v.strip()
    return blocks


@dataclass
class _Graph:
    nodes: list[onnx.NodeProto] = field(default_factory=list)
    inits: list[onnx.TensorProto] = field(default_factory=list)
    n: int = 0

    def name(self, prefix: str) -> str:
        self.n += 1
        return f"{prefix}_{self.n}"

    def const(self, arr: np.ndarray | np.generic, prefix: str = "c") -> str:
        nm = self.name(prefix)
        self.inits.append(numpy_helper.from_array(np.asarray(arr), nm))
        return nm

    def op(self, op_type: str, inputs: list[str], **attrs: Any) -> str:
        out = self.name(op_type.lower())
        self.nodes.append(helper.make_node(op_type, inputs, [out], name=out, **attrs))
        return out

    def ints(self, *values: int) -> str:
        return self.const(np.array(values, np.int64))


class _Weights:
    def __init__(self, path: Path) -> None:
        with open(path, "rb") as f:
            major, minor, _rev = np.fromfile(f, np.int32, 3)
            np.fromfile(f, np.int64 if major * 10 + minor >= 2 else np.int32, 1)  # images seen
            self.data = np.fromfile(f, np.float32)
        self.pos = 0

    def take(self, n: int) -> np.ndarray:
        out = self.data[self.pos:self.pos + n]
        self.pos += n
        return out


@dataclass
class _Head:
    tensor: str
    size: int
    anchors: np.ndarray
    classes: int
    scale_xy: float


def _conv(g: _Graph, w: _Weights, b: dict[str, str], x: str, in_c: int) -> tuple[str, int, int, int]:
    f, k, st = int(b["filters"]), int(b["size"]), int(b["stride"])
    pad = k // 2 if int(b.get("pad", 0)) else int(b.get("padding", 0))
    if int(b.get("batch_normalize", 0)):
        bias, scale, mean, var = (w.take(f) for _ in range(4))
        kernel = w.take(f * in_c * k * k).reshape(f, in_c, k, k)
        a = scale / np.sqrt(var + DARKNET_BN_EPS)  # fold batch norm into the convolution
        kernel, bias = kernel * a[:, None, None, None], bias - mean * a
    else:
        bias = w.take(f)
        kernel = w.take(f * in_c * k * k).reshape(f, in_c, k, k)
    y = g.op("Conv", [x, g.const(kernel.astype(np.float32), "w"), g.const(bias.astype(np.float32), "b")],
             kernel_shape=[k, k], strides=[st, st], pads=[pad] * 4)
    act = b.get("activation", "linear")
    if act == "leaky":
        y = g.op("LeakyRelu", [y], alpha=0.1)
    elif act != "linear":
        raise NotImplementedError(f"activation {act!r}")
    return y, f, pad, k


def _decode_head(g: _Graph, h: _Head, input_size: int) -> tuple[str, str]:
    na, hw, nc = len(h.anchors), h.size, h.classes
    r = g.op("Reshape", [h.tensor, g.ints(0, na, 5 + nc, hw, hw)])
    r = g.op("Transpose", [r], perm=[0, 1, 3, 4, 2])
    r = g.op("Reshape", [r, g.ints(0, na * hw * hw, 5 + nc)])

    def sl(a: int, b: int) -> str:
        return g.op("Slice", [r, g.ints(a), g.ints(b), g.ints(2)])

    txy, twh, tobj, tcls = sl(0, 2), sl(2, 4), sl(4, 5), sl(5, 5 + nc)
    stride = input_size / hw
    gy, gx = np.meshgrid(np.arange(hw), np.arange(hw), indexing="ij")
    grid = np.stack([gx, gy], -1).reshape(1, 1, hw * hw, 2).repeat(na, 0).reshape(1, na * hw * hw, 2)
    anchors = np.repeat(h.anchors[:, None, :], hw * hw, 1).reshape(1, na * hw * hw, 2)
    xy = g.op("Mul", [g.op("Sigmoid", [txy]), g.const(np.float32(h.scale_xy * stride))])
    xy = g.op("Add", [xy, g.const(((grid - (h.scale_xy - 1) / 2) * stride).astype(np.float32))])
    wh = g.op("Mul", [g.op("Exp", [twh]), g.const(anchors.astype(np.float32))])
    half = g.op("Mul", [wh, g.const(np.float32(0.5))])
    boxes = g.op("Concat", [g.op("Sub", [xy, half]), g.op("Add", [xy, half])], axis=2)
    scores = g.op("Mul", [g.op("Sigmoid", [tobj]), g.op("Sigmoid", [tcls])])
    return boxes, scores


def convert(cfg_path: Path, weights_path: Path, out_path: Path, size: int | None = None) -> Path:
    blocks = parse_cfg(Path(cfg_path).read_text())
    input_size = int(size or blocks[0]["width"])
    w = _Weights(Path(weights_path))
    g = _Graph()
    x, cur_c, cur_s = "images", 3, input_size
    outs: list[str] = []
    chans: list[int] = []
    sizes: list[int] = []
    heads: list[_Head] = []
    for i, b in enumerate(blocks[1:]):
        t = b["type"]
        if t == "convolutional":
            x, cur_c, pad, k = _conv(g, w, b, x, cur_c)
            cur_s = (cur_s + 2 * pad - k) // int(b["stride"]) + 1
        elif t == "maxpool":
            k, st = int(b["size"]), int(b["stride"])
            if st == 1:  # darknet keeps the size: pad right/bottom by k-1
                x = g.op("MaxPool", [x], kernel_shape=[k, k], strides=[1, 1], pads=[0, 0, k - 1, k - 1])
            else:
                x = g.op("MaxPool", [x], kernel_shape=[k, k], strides=[st, st])
                cur_s = (cur_s - k) // st + 1
        elif t == "route":
            idx = [j if j >= 0 else i + j for j in (int(v) for v in b["layers"].split(","))]
            if len(idx) == 1:
                src, c = outs[idx[0]], chans[idx[0]]
                groups = int(b.get("groups", 1))
                if groups > 1:
                    gc, gid = c // groups, int(b.get("group_id", 0))
                    src = g.op("Slice", [src, g.ints(gid * gc), g.ints((gid + 1) * gc), g.ints(1)])
                    c = gc
                x, cur_c, cur_s = src, c, sizes[idx[0]]
            else:
                x = g.op("Concat", [outs[j] for j in idx], axis=1)
                cur_c, cur_s = sum(chans[j] for j in idx), sizes[idx[0]]
        elif t == "upsample":
            st = int(b["stride"])
            x = g.op("Resize", [x, "", g.const(np.array([1, 1, st, st], np.float32))], mode="nearest")
            cur_s *= st
        elif t == "yolo":
            mask = [int(v) for v in b["mask"].split(",")]
            anchors = np.array([float(v) for v in b["anchors"].split(",")], np.float32).reshape(-1, 2)[mask]
            heads.append(_Head(x, cur_s, anchors, int(b["classes"]), float(b.get("scale_x_y", 1.0))))
        else:
            raise NotImplementedError(f"darknet layer {t!r}")
        outs.append(x)
        chans.append(cur_c)
        sizes.append(cur_s)
    if w.pos != w.data.size:
        raise ValueError(f"weights do not match the cfg: used {w.pos} of {w.data.size} floats")

    decoded = [_decode_head(g, h, input_size) for h in heads]
    boxes = g.op("Concat", [d[0] for d in decoded], axis=1)
    scores = g.op("Concat", [d[1] for d in decoded], axis=1)
    g.nodes.append(helper.make_node("Identity", [boxes], ["boxes"], name="boxes"))
    g.nodes.append(helper.make_node("Identity", [scores], ["scores"], name="scores"))
    anchors_total = sum(len(h.anchors) * h.size * h.size for h in heads)
    nc = heads[0].classes
    graph = helper.make_graph(
        g.nodes, "darknet_yolo",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, ["N", 3, input_size, input_size])],
        [helper.make_tensor_value_info("boxes", TensorProto.FLOAT, ["N", anchors_total, 4]),
         helper.make_tensor_value_info("scores", TensorProto.FLOAT, ["N", anchors_total, nc])],
        g.inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="conveyor-darknet2onnx")
    model.ir_version = 8
    onnx.checker.check_model(model)
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_path.with_suffix(".tmp")
    onnx.save(model, str(tmp))
    tmp.replace(out_path)  # atomic: concurrent first uses never see a half-written model
    return out_path
