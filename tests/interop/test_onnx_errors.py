"""What ``export`` refuses, and how: an op without a converter (named, with the way to add
one), values ONNX would freeze at their traced contents, forward passes that branch on the
input, and malformed arguments. And the converter table: a user's op opts in with one
``register_converter`` declaration."""

from __future__ import annotations

import numpy as np
import pytest
from ort_session import run

import autograd_nn as ag
from autograd_nn import nn
from autograd_nn.onnx import (
    CONVERTERS,
    ExportError,
    OnnxGraph,
    OpCall,
    UnsupportedOperatorError,
    export,
    register_converter,
)


class Cube(ag.Function):
    """z = x³;  δx = 3x² δz"""

    @staticmethod
    def forward(ctx, x, *, scale=1.0):
        ctx.save_for_backward(x)
        return scale * x**3

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 3 * x * x


@pytest.fixture
def cube_converter():
    """A converter for Cube, taken out again after the test."""

    @register_converter(Cube)
    def convert(g: OnnxGraph, op: OpCall) -> str:
        x = op.input(0, op.dtype)
        cubed = g.op("Mul", x, g.op("Mul", x, x, dtype=op.dtype), dtype=op.dtype)
        return g.op("Mul", cubed, g.constant(op.param("scale"), op.dtype), dtype=op.dtype)

    yield convert
    del CONVERTERS[Cube]


def test_an_op_without_a_converter_is_named_with_the_way_to_add_one():
    model = nn.Sequential(nn.Linear(2, 2))
    with pytest.raises(UnsupportedOperatorError) as caught:
        export(lambda x: Cube.apply(model(x)).sigmoid(), (np.ones((1, 2)),))
    message = str(caught.value)
    assert "no ONNX converter for Cube (test_onnx_errors.Cube)" in message
    assert "@autograd_nn.onnx.register_converter(TheOp)" in message and "decomposition=" in message
    assert isinstance(caught.value, ExportError) and isinstance(caught.value, RuntimeError)


def test_one_declaration_makes_a_users_op_exportable(cube_converter, rng):
    x = rng.random((4, 3), dtype=np.float32)
    proto = export(lambda t: Cube.apply(t, scale=2.0), (x,), dynamic_axes={"input": [0]})
    assert [n.op_type for n in proto.graph.node] == ["Mul", "Mul", "Mul"]
    other = rng.random((6, 3), dtype=np.float32)
    np.testing.assert_allclose(run(proto, other)[0], 2 * other**3, rtol=1e-6)


def test_a_second_converter_for_one_op_needs_replace(cube_converter):
    with pytest.raises(ValueError, match="Cube already has an ONNX converter"):
        register_converter(Cube)(lambda g, op: "")
    replaced = register_converter(Cube, replace=True)(cube_converter)
    assert CONVERTERS[Cube] is replaced
    with pytest.raises(TypeError, match="expected Function classes"):
        register_converter("Cube")


def test_a_constant_computed_from_the_inputs_values_is_refused():
    """x > 0 is a plain boolean array, not a recorded op: ONNX would repeat the traced mask."""
    with pytest.raises(
        ExportError, match=r"the condition of the Where is a constant that depends on the input's values"
    ):
        export(lambda x: ag.where(x.data > 0, x, 0.1 * x), (np.array([[-1.0, 2.0], [3.0, -4.0]]),))


def test_a_constant_whose_size_follows_the_batch_is_refused_unless_it_is_one_value():
    def noisy(x):
        return x + ag.tensor(np.arange(x.shape[0] * 2.0).reshape(x.shape[0], 2))

    with pytest.raises(ExportError, match=r"input 1 of the Add is a constant that depends on the input's sizes"):
        export(noisy, (np.ones((3, 2)),), dynamic_axes={"input": [0]})
    export(noisy, (np.ones((3, 2)),))  # a fixed batch: the constant is a constant


def test_the_input_used_outside_the_graph_is_refused():
    with pytest.raises(ExportError, match="is the model's input itself, used outside the recorded graph"):
        export(lambda x: x * x.detach(), (np.ones((2, 2)),))


def test_a_forward_that_branches_on_the_input_is_refused():
    def branchy(x):
        return x.exp() if x.shape[0] > 3 else x.sigmoid()

    with pytest.raises(ExportError, match="records different operations for inputs of different sizes"):
        export(branchy, (np.ones((3, 2)),), dynamic_axes={"input": [0]})


def test_a_parameter_that_follows_the_input_is_refused():
    with pytest.raises(ExportError, match="the Concatenate .* its parameter axis depends on the input"):
        export(
            lambda x: ag.concatenate([x, x], axis=min(x.shape[0] - 3, 1)),
            (np.ones((3, 2)),),
            dynamic_axes={"input": [0]},
        )


def test_a_model_that_fails_when_a_dynamic_axis_grows_is_explained():
    def fixed(x):
        return x + ag.tensor(np.ones((3, 2)))  # the batch is 3, whatever dynamic_axes says

    with pytest.raises(
        ExportError, match="the model fails on the example inputs with the dynamic axes grown"
    ) as caught:
        export(fixed, (np.ones((3, 2)),), dynamic_axes={"input": [0]})
    assert isinstance(caught.value.__cause__, ValueError)


def test_a_size_computed_from_a_dynamic_one_is_not_frozen():
    """n // 2 is the same for n = 6 and n = 7: the second recording grows n to 2n + 1, so the
    half-length slice is seen to change, and refused rather than frozen at 3."""
    with pytest.raises(ExportError, match="a size of 3 in the traced graph changes with the dynamic axes"):
        export(lambda x: x[:, : x.shape[1] // 2], (np.ones((2, 6)),), dynamic_axes={"input": [1]})


def test_a_size_read_from_one_of_two_equal_dynamic_axes_is_ambiguous():
    with pytest.raises(ExportError, match="the dynamic axes batch, steps all have size 4 in the example inputs"):
        export(
            lambda x: x.sum(axis=2) + ag.tensor(np.zeros(x.shape[1])), (np.ones((4, 4, 2)),),
            dynamic_axes={"input": {0: "batch", 1: "steps"}},
        )  # fmt: skip


@pytest.mark.parametrize(
    "options, message",
    [
        ({"opset_version": 12}, "opset_version must be an int from 13 to"),
        ({"opset_version": "18"}, "opset_version must be an int"),
        ({"input_names": ["a", "b"]}, "input_names must be 1 distinct non-empty strings"),
        ({"output_names": [""]}, "output_names must be 1 distinct non-empty strings"),
        ({"dynamic_axes": {"x": [0]}}, r"dynamic_axes names \['x'\], which are not among the inputs \['input'\]"),
        ({"dynamic_axes": {"input": [2]}}, r"dynamic_axes\['input'\] names axes \[2\], but input has 2 axes"),
        ({"dynamic_axes": {"input": {"0": "batch"}}}, "must map int axes to str names"),
        ({"dynamic_axes": {"input": 0}}, "must be a dict"),
    ],
)
def test_malformed_arguments_are_refused(options, message):
    with pytest.raises((ValueError, TypeError), match=message):
        export(nn.Tanh(), (np.ones((2, 3)),), **options)


def test_outputs_must_be_tensors_and_the_model_callable():
    with pytest.raises(ExportError, match="returned a dict as output 0"):
        export(lambda x: {"y": x}, (np.ones(2),))
    with pytest.raises(TypeError, match="model must be an nn.Module or a function"):
        export(3, (np.ones(2),))


def test_an_output_that_is_an_input_or_a_constant_is_copied(rng):
    x = rng.random((2, 3))
    proto = export(lambda t: (t, t * 2, ag.tensor(np.ones(2))), (x,))
    same, double, ones = run(proto, x)
    np.testing.assert_array_equal(same, x)
    np.testing.assert_array_equal(double, 2 * x)
    np.testing.assert_array_equal(ones, np.ones(2))
    assert [o.name for o in proto.graph.output] == ["output_0", "output_1", "output_2"]
