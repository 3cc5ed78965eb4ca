"""Registering a model checks it before trusting it, and cheaply: declared inputs are read from the graph."""

import resource
from pathlib import Path

import onnx
import pytest
from onnx import TensorProto, helper

from scheduler_svc.model_inspection import inspect_in_child, inspect_model, memory_limit_bytes
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


def _bomb(path: Path, side: int = 16_384) -> Path:
    """A few hundred bytes that build a side x side float constant (1 GiB) when onnxruntime folds constants,
    summed into a classifier's three scores."""
    x = helper.make_tensor_value_info("images", TensorProto.FLOAT, [1, 3, 64, 64])
    shape = helper.make_tensor("shape", TensorProto.INT64, [2], [side, side])
    nodes = [helper.make_node("ConstantOfShape", ["shape"], ["big"],
                              value=helper.make_tensor("one", TensorProto.FLOAT, [1], [1.0])),
             helper.make_node("ReduceSum", ["big"], ["total"], keepdims=0),
             helper.make_node("ReduceMean", ["images"], ["mean"], axes=[2, 3], keepdims=0),
             helper.make_node("Add", ["mean", "total"], ["scores"])]
    out = helper.make_tensor_value_info("scores", TensorProto.FLOAT, [1, 3])
    graph = helper.make_graph(nodes, "bomb", [x], [out], initializer=[shape])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), str(path))
    return path


async def test_a_tiny_model_that_builds_a_huge_tensor_is_refused_by_the_child_not_the_service(
        tmp_path: Path) -> None:
    bomb = _bomb(tmp_path / "bomb.onnx")
    assert bomb.stat().st_size < 300
    limit = memory_limit_bytes(bomb.stat().st_size, 768)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(InvalidInput, match=f"needs more than {limit // 2**20} MiB to load and run"):
        await inspect_in_child(bomb, "classification", ["a", "b", "c"], None, memory_bytes=limit, timeout_s=60)
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 100 * 1024  # KiB: this process grew little
    small = _bomb(tmp_path / "small.onnx", side=64)  # the same graph with a 16 KiB constant: a fine model
    assert await inspect_in_child(small, "classification", ["a", "b", "c"], None, memory_bytes=limit,
                                  timeout_s=60) == ("classification", 64)
    ok = _model(tmp_path / "ok.onnx", [1, 3, 32, 32])  # its own refusals come back as they are
    with pytest.raises(InvalidInput, match="classNames lists 2"):
        await inspect_in_child(ok, "classification", ["a", "b"], None, memory_bytes=limit, timeout_s=60)


def test_tensors_kept_outside_the_file_are_refused(tmp_path: Path) -> None:
    model = onnx.load(str(_model(tmp_path / "m.onnx", [1, 3, 32, 32])))
    weights = helper.make_tensor("w", TensorProto.FLOAT, [3], [1.0, 2.0, 3.0])
    weights.data_location = TensorProto.EXTERNAL
    weights.external_data.add(key="location", value="../../etc/passwd")
    model.graph.initializer.append(weights)
    onnx.save(model, str(tmp_path / "external.onnx"))
    with pytest.raises(InvalidInput, match="keeps its data outside the file"):
        inspect_model(tmp_path / "external.onnx", "classification", ["a", "b", "c"])
