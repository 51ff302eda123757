"""The two objects a converter works with: ``OnnxGraph`` (the graph being built) and
``OpCall`` (the recorded op), each member checked directly; and the layer table's entries."""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pytest
from ort_session import onnx, run

import autograd_nn as ag
from autograd_nn import nn
from autograd_nn.interop import LAYERS, LayerBridge
from autograd_nn.onnx import CONVERTERS, ExportError, OnnxGraph, OpCall, export, register_converter
from autograd_nn.onnx._graph import Signature


def test_names_are_unique_and_claimed_names_are_kept():
    g = OnnxGraph(18)
    assert [g.fresh("Add"), g.fresh("Add"), g.fresh("Mul")] == ["Add_0", "Add_1", "Mul_0"]
    assert g.claim("Add_2") == "Add_2" and g.fresh("Add") == "Add_3"  # a claimed name is skipped
    with pytest.raises(ValueError, match="the name 'Add_2' is used twice"):
        g.claim("Add_2")


def test_constants_initialisers_casts_and_renames():
    g = OnnxGraph(18)
    weight = g.initializer(np.ones((2, 3), np.float32), "0.weight")
    assert weight == "0.weight" and g.dtypes[weight] == np.float32
    half = g.constant(0.5, np.float32)
    assert g.constant(np.float32(0.5)) == half  # small constants are shared by value
    assert g.initializers[half].shape == () and g.initializers[half].dtype == np.float32  # 0-d stays 0-d
    axes = g.ints([0, -1])
    assert g.initializers[axes].dtype == np.int64 and list(g.initializers[axes]) == [0, -1]
    assert g.cast(weight, np.float32) == weight  # already that dtype: no node
    wide = g.cast(weight, np.float64)
    assert g.nodes[-1][:3] == ("Cast", [weight], [wide]) and g.dtypes[wide] == np.float64
    scaled = g.op("Mul", wide, g.constant(0.5, np.float64), dtype=np.float64)
    assert g.produced(scaled) and not g.produced(weight)
    g.rename_output(scaled, "result")
    assert g.produced("result") and not g.produced(scaled)
    model = g.to_model(
        [], [Signature("result", np.dtype(np.float64), (2, 3))], producer="test"
    )  # inputs: none, everything is an initialiser
    onnx.checker.check_model(model, full_check=True)
    (got,) = run(model)
    np.testing.assert_array_equal(got, np.full((2, 3), 0.5))


def test_an_op_call_describes_the_recorded_op(rng):
    """A converter for a two-input op sees its inputs' values, shapes, both recordings' sizes
    and its parameters, and can fail naming the op."""
    seen = {}

    class Scale(ag.Function):
        """z = x · y · k"""

        @staticmethod
        def forward(ctx, x, y, *, k=2.0, mask=None):
            return x * y * k

        @staticmethod
        def backward(ctx, grad):
            return grad, grad

    @register_converter(Scale)
    def convert(g: OnnxGraph, op: OpCall) -> str:
        seen.update(
            n=op.n_inputs, shapes=[op.input_shape(i) for i in range(op.n_inputs)], dims=op.input_dims(0),
            raw=op.raw(1), out=op.dims, k=op.param("k"), name=op.name, dtype=op.dtype, shape=op.shape,
        )  # fmt: skip
        x, y = op.inputs(op.dtype)
        mask = op.param_value("mask", op.dtype)
        return g.op("Mul", g.op("Mul", x, y, dtype=op.dtype), g.op("Mul", mask, g.constant(op.param("k"), op.dtype)))

    try:
        x = rng.random((4, 3), dtype=np.float32)
        weights = np.arange(3, dtype=np.float32)
        mask = np.array([1.0, 0.0, 1.0], dtype=np.float32)
        proto = export(lambda t: Scale.apply(t, weights, k=3.0, mask=mask), (x,), dynamic_axes={"input": [0]})
        assert seen["n"] == 2 and seen["shapes"] == [(4, 3), (3,)] and seen["dims"] == [(4, 9), (3, 3)]
        assert seen["raw"] is weights and seen["out"] == [(4, 9), (3, 3)] and seen["k"] == 3.0
        assert (seen["name"], seen["dtype"], seen["shape"]) == ("Scale", np.float32, (4, 3))
        other = rng.random((6, 3), dtype=np.float32)
        np.testing.assert_allclose(run(proto, other)[0], other * weights * 3 * mask, rtol=1e-6)

        @register_converter(Scale, replace=True)
        def refuse(g: OnnxGraph, op: OpCall) -> str:
            raise op.fail("has no ONNX form in this test")

        with pytest.raises(
            ExportError, match=r"^export: the Scale \(an op of the model\): has no ONNX form in this test$"
        ):
            export(lambda t: Scale.apply(t, weights), (x,))
    finally:
        del CONVERTERS[Scale]


def test_the_layer_table_entries_say_how_each_layer_is_built():
    by_name = {b.theirs: b for b in LAYERS}
    linear = by_name["Linear"]
    assert isinstance(linear, LayerBridge)
    assert linear.ours is nn.Linear and not linear.container and by_name["Sequential"].container
    listed = by_name["ParameterList"]
    assert listed.holds_parameters and not listed.container and not linear.holds_parameters
    built = listed.build(nn.ParameterList, OrderedDict(w=nn.Parameter(np.ones(2))))
    assert type(built) is nn.ParameterList and [name for name, _ in built.named_parameters()] == ["0"]
    assert by_name["ModuleDict"].build is None  # built as cls(entries), which keeps the names
    assert linear.arguments(nn.Linear(3, 2, bias=False)) == {"in_features": 3, "out_features": 2, "bias": False}
    assert linear.refuse(nn.Linear(3, 2)) is None
    assert by_name["Softmax"].refuse(nn.Softmax(dim=1)) is None
    assert "dim=None" in by_name["Softmax"].refuse(type("Legacy", (), {"dim": None})())
