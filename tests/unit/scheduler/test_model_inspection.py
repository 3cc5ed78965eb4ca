"""Registering a model checks it before trusting it, and cheaply: declared inputs are read from the graph."""

from pathlib import Path

import onnx
import pytest
from onnx import TensorProto, helper

from scheduler_svc.registry import inspect_model
from shared.errors import InvalidInput


def _model(path: Path, input_shape: list[int], outputs: int = 1) -> Path:
    x = helper.make_tensor_value_info("images", TensorProto.FLOAT, input_shape)
    nodes, outs = [], []
    for i in range(outputs):
        nodes.append(helper.make_node("ReduceMean", ["images"], [f"out{i}"], axes=[2, 3], keepdims=0))
        outs.append(helper.make_tensor_value_info(f"out{i}", TensorProto.FLOAT, [input_shape[0], 3]))
    graph = helper.make_graph(nodes, "g", [x], outs)
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), str(path))
    return path


def test_a_model_declaring_a_huge_input_is_refused_before_any_session(tmp_path: Path) -> None:
    huge = _model(tmp_path / "huge.onnx", [1, 3, 6000, 6000])
    assert huge.stat().st_size < 1000
    with pytest.raises(InvalidInput, match="at most 4096 pixels a side"):
        inspect_model(huge, "classification", ["a", "b", "c"])


def test_a_classifier_needs_exactly_one_output(tmp_path: Path) -> None:
    ok = _model(tmp_path / "ok.onnx", [1, 3, 32, 32])
    assert inspect_model(ok, "classification", ["a", "b", "c"]) == ("classification", 32)
    two = _model(tmp_path / "two.onnx", [1, 3, 32, 32], outputs=2)
    with pytest.raises(InvalidInput, match="one output of class scores, not 2"):
        inspect_model(two, "classification", ["a", "b", "c"])
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"junk")
    with pytest.raises(InvalidInput, match="not an ONNX model"):
        inspect_model(junk, "classification", ["a"])
