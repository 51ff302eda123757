"""The op contract: every registered primitive, and the composites built on them, checked
forward against a numpy reference and backward (first and second order) against finite
differences in float64, on inputs hypothesis draws from each op's spec.

Example counts follow the hypothesis profile (tests/conftest.py; see docs/testing.md).
"""

from __future__ import annotations

import sys
import textwrap

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import autograd_nn as ag
import autograd_nn.ops
from autograd_nn import functional as F
from autograd_nn.function import OP_REGISTRY, register_op
from autograd_nn.opspec import op_spec
from autograd_nn.testing import strategies as ats
from autograd_nn.testing.contract import builtin_specs, check_op, spec_problems, unregistered_ops

BUILTIN = builtin_specs()


# ------------------------------------------------------------------ the registry is whole
def test_every_op_exported_by_autograd_nn_ops_is_enrolled():
    assert sorted(s.name for s in BUILTIN) == sorted(autograd_nn.ops.__all__)
    assert {"BinaryCrossEntropy", "IndexAdd", "Cast", "Concatenate"} <= {s.name for s in BUILTIN}


def test_every_function_subclass_in_ops_is_registered():
    assert unregistered_ops("autograd_nn.ops") == []


@pytest.mark.parametrize("spec", BUILTIN, ids=lambda s: s.name)
def test_every_registered_spec_is_complete(spec):
    assert spec_problems(spec) == []


def test_an_unregistered_function_in_a_package_is_reported(tmp_path, monkeypatch):
    package = tmp_path / "my_ops"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "kernels.py").write_text(
        textwrap.dedent(
            """
            import numpy as np
            from autograd_nn import Function, register_op

            @register_op(reference=np.negative)
            class Enrolled(Function):
                @staticmethod
                def forward(ctx, x):
                    return -x

                @staticmethod
                def backward(ctx, grad):
                    return -grad

            class Forgotten(Function):
                @staticmethod
                def forward(ctx, x):
                    return 2 * x

            class _SharedBase(Function):
                pass
            """
        )
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        assert unregistered_ops("my_ops") == ["my_ops.kernels.Forgotten"]
    finally:
        for key in [k for k in OP_REGISTRY if k.startswith("my_ops.")]:
            del OP_REGISTRY[key]
        for name in [m for m in sys.modules if m.startswith("my_ops")]:
            del sys.modules[name]


class _Scale(ag.Function):
    @staticmethod
    def forward(ctx, x, *, factor):
        ctx.factor = factor
        return x * factor

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.factor


def test_an_incomplete_spec_is_reported():
    complete = op_spec(_Scale, reference=lambda x, factor: x * factor, params={"factor": (0.5, 2.0)})
    assert spec_problems(complete) == []
    forgot_factor = op_spec(_Scale, reference=lambda x, factor: x * factor)
    assert spec_problems(forgot_factor) == ["parameter 'factor' of _Scale is never drawn: add it to params"]
    wrong_family = op_spec(_Scale, reference=np.negative, shapes="elementwize", params={"factor": (1.0,)})
    assert "unknown shape family 'elementwize'" in spec_problems(wrong_family)[0]
    stray = op_spec(_Scale, reference=np.negative, params={"factor": (1.0,), "bias": (0.0,)})
    assert spec_problems(stray) == ["_Scale takes no parameter 'bias'"]
    bad_kind = op_spec(_Scale, reference=np.negative, params={"factor": "probabilites"})
    assert "unknown array kind 'probabilites'" in spec_problems(bad_kind)[0]
    too_many = op_spec(_Scale, reference=np.negative, shapes="matmul", params={"factor": (1.0,)})
    assert spec_problems(too_many) == ["shape family 'matmul' draws 2 input(s), the op takes 1"]


def test_register_op_refuses_a_spec_without_reference_or_with_a_misspelt_hint():
    with pytest.raises(TypeError, match=r"register_op on Bad: .*'reference'"):

        @register_op(domain=(-1, 1))
        class Bad(ag.Function):
            pass

    with pytest.raises(TypeError, match=r"register_op on Bad: .*'kink'"):

        @register_op(reference=np.abs, kink=[0.0])
        class Bad(ag.Function):  # noqa: F811
            pass

    with pytest.raises(ValueError, match=r"op spec of Bad: domain interval \(1, -1\)"):

        @register_op(reference=np.abs, domain=(1, -1))
        class Bad(ag.Function):  # noqa: F811
            pass

    assert not [k for k in OP_REGISTRY if k.endswith(".Bad")]


# ------------------------------------------------------------- THE property test: every op
@pytest.mark.parametrize("spec", BUILTIN, ids=lambda s: s.name)
@given(data=st.data())
def test_op_contract(spec, data):
    """Forward = numpy reference; gradcheck and gradgradcheck pass, in float64."""
    check_op(spec, data.draw)


def test_cast_to_float32_hands_back_the_cotangent_in_the_source_dtype():
    # The contract checks Cast in float64 and longdouble only (finite differences in
    # float32 are noise), so the float32 path is checked exactly here.
    x = ag.tensor(np.array([0.1, 1 / 3, 2.0]), requires_grad=True)
    y = x.astype(np.float32)
    assert y.dtype == np.float32
    np.testing.assert_array_equal(y.data, x.data.astype(np.float32))
    v = np.array([1 / 3, -2.0, 0.25], dtype=np.float32)
    y.backward(v)
    assert x.grad.dtype == np.float64
    np.testing.assert_array_equal(x.grad.data, v.astype(np.float64))


# ------------------------------------------------------------ composites built on the ops
def _ddof_reduction(min_count):
    """A reduction over at least ``min_count`` elements, with ddof below that count."""

    def shapes(draw):
        shape = draw(ats.shapes(min_dims=1, max_dims=3, min_side=min_count, max_side=3))
        axis = draw(ats.valid_axes(len(shape)).filter(lambda a: a != ()))
        count = int(np.prod(shape)) // np.empty(shape).sum(axis=axis, keepdims=True).size
        return [shape], {"axis": axis, "keepdims": draw(st.booleans()), "ddof": draw(st.integers(0, count - 1))}

    return shapes


def test_var_with_ddof_at_least_the_count_is_nan_like_numpy():
    # Regression: this raised ZeroDivisionError instead of numpy's nan.
    x = np.array([[1.0, 2.0, 4.0]])
    with np.errstate(divide="ignore", invalid="ignore"), pytest.warns(RuntimeWarning):
        expected = np.var(x, axis=0, ddof=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        got = ag.tensor(x).var(axis=0, ddof=1)
    np.testing.assert_array_equal(got.data, expected)
    assert np.isnan(got.data).all()


def _squeezable(draw):
    shape = draw(ats.shapes(max_dims=3, max_side=3))
    ones = [i for i, n in enumerate(shape) if n == 1]
    axis = draw(st.none() | st.sampled_from(ones)) if ones else None
    return [shape], {"axis": axis}


def _expandable(draw):
    shape = draw(ats.shapes(max_dims=3, max_side=3))
    return [shape], {"axis": draw(st.integers(-len(shape) - 1, len(shape)))}


def _two_axes(draw):
    shape = draw(ats.shapes(min_dims=1, max_dims=3, max_side=3))
    axes = st.integers(-len(shape), len(shape) - 1)
    return [shape], {"axis1": draw(axes), "axis2": draw(axes)}


def _stackable(draw):
    shape = draw(ats.shapes(max_dims=2, max_side=3))
    count = draw(st.integers(1, 3))
    return [shape] * count, {"axis": draw(st.integers(-len(shape) - 1, len(shape)))}


def _logits(draw):
    return [(draw(st.integers(1, 4)), draw(st.integers(1, 4)))], {}


def _linear(bias):
    def shapes(draw):
        batch = draw(ats.shapes(max_dims=2, max_side=3))
        n_in, n_out = draw(st.integers(1, 3)), draw(st.integers(1, 3))
        return [batch + (n_in,), (n_out, n_in)] + ([(n_out,)] if bias else []), {}

    return shapes


def _reduce(loss, reduction):
    return {"mean": np.mean, "sum": np.sum, "none": np.asarray}[reduction](loss)


def _log_softmax(z):
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))


REDUCTIONS = {"reduction": ("mean", "sum", "none")}

COMPOSITES = [
    op_spec(
        lambda x, axis, keepdims, ddof: x.var(axis=axis, ddof=ddof, keepdims=keepdims),
        name="Tensor.var",
        arity=1,
        reference=lambda x, axis, keepdims, ddof: np.var(x, axis=axis, ddof=ddof, keepdims=keepdims),
        shapes=_ddof_reduction(1),
    ),
    op_spec(
        lambda x, axis, keepdims, ddof: x.std(axis=axis, ddof=ddof, keepdims=keepdims),
        name="Tensor.std",
        arity=1,
        reference=lambda x, axis, keepdims, ddof: np.std(x, axis=axis, ddof=ddof, keepdims=keepdims),
        shapes=_ddof_reduction(2),
        distinct=True,  # a zero spread is where √ has no derivative
    ),
    op_spec(lambda x, axis: x.squeeze(axis), name="Tensor.squeeze", arity=1, reference=np.squeeze, shapes=_squeezable),
    op_spec(
        lambda x, axis: x.expand_dims(axis),
        name="Tensor.expand_dims",
        arity=1,
        reference=np.expand_dims,
        shapes=_expandable,
    ),
    op_spec(lambda x: x.flatten(), name="Tensor.flatten", reference=np.ravel),
    op_spec(lambda x: x.T, name="Tensor.T", reference=np.transpose),
    op_spec(
        lambda x, axis1, axis2: x.swapaxes(axis1, axis2),
        name="Tensor.swapaxes",
        arity=1,
        reference=np.swapaxes,
        shapes=_two_axes,
    ),
    op_spec(
        lambda x, index: x[index],
        name="Tensor.__getitem__",
        arity=1,
        reference=lambda x, index: x[index],
        shapes="index",
    ),
    op_spec(
        lambda x, k: x**k,
        name="Tensor.__pow__(scalar)",
        arity=1,
        reference=lambda x, k: np.power(x, k),
        domain=(0.2, 3),
        params={"k": (2, 3, -1, 0.5)},
    ),
    op_spec(lambda x: 2.0**x, name="Tensor.__rpow__", reference=lambda x: np.exp(x * np.log(2.0))),
    op_spec(lambda x: 1.0 / x, name="Tensor.__rtruediv__", reference=np.reciprocal, domain=((-3, -0.3), (0.3, 3))),
    op_spec(
        lambda *xs, axis: ag.stack(xs, axis=axis),
        name="stack",
        arity=None,
        reference=lambda *xs, axis: np.stack(xs, axis=axis),
        shapes=_stackable,
    ),
    op_spec(
        F.mse_loss,
        shapes="same",
        reference=lambda x, y, reduction: _reduce((x - y) ** 2, reduction),
        params=REDUCTIONS,
    ),
    op_spec(
        F.cross_entropy,
        name="cross_entropy(labels)",
        arity=1,
        reference=lambda z, target, reduction: _reduce(-_log_softmax(z)[np.arange(len(z)), target], reduction),
        shapes=_logits,
        params={"target": "labels", **REDUCTIONS},
    ),
    op_spec(
        F.cross_entropy,
        name="cross_entropy(probabilities)",
        arity=1,
        reference=lambda z, target, reduction: _reduce(-(_log_softmax(z) * target).sum(axis=1), reduction),
        shapes=_logits,
        params={"target": "probabilities", **REDUCTIONS},
    ),
    op_spec(
        F.binary_cross_entropy,
        arity=1,
        reference=lambda p, target, reduction: _reduce(-(target * np.log(p) + (1 - target) * np.log1p(-p)), reduction),
        domain=(0.02, 0.98),
        params={"target": "probabilities", **REDUCTIONS},
    ),
    op_spec(
        F.binary_cross_entropy_with_logits,
        arity=1,
        reference=lambda z, target, reduction: _reduce(
            -(target * np.log(1 / (1 + np.exp(-z))) + (1 - target) * np.log(1 / (1 + np.exp(z)))), reduction
        ),
        domain=(-8, 8),
        params={"target": "probabilities", **REDUCTIONS},
    ),
    op_spec(F.linear, name="linear", arity=3, reference=lambda x, W, b: x @ W.T + b, shapes=_linear(bias=True)),
    op_spec(F.linear, name="linear(no bias)", arity=2, reference=lambda x, W: x @ W.T, shapes=_linear(bias=False)),
    op_spec(
        lambda x, p: F.dropout(x, p, rng=np.random.default_rng(7)),
        name="dropout",
        arity=1,
        reference=lambda x, p: np.where(np.random.default_rng(7).random(x.shape) >= p, x / (1 - p), 0.0),
        params={"p": (0.0, 0.25, 0.5)},
    ),
    op_spec(F.softplus, reference=lambda z: np.log(1 + np.exp(z)), domain=(-8, 8)),
    op_spec(
        F.clip,
        arity=1,
        reference=np.clip,
        kinks=["a_min", "a_max"],
        params={"a_min": (-1.0, None), "a_max": (0.5, 2.0)},
    ),
    op_spec(
        lambda c, x, y: ag.where(c > 0, x, y),
        name="where(tensor condition)",
        reference=lambda c, x, y: np.where(c > 0, x, y),
        kinks=[0.0],
    ),
]


def test_composite_specs_are_complete():
    assert {s.name: spec_problems(s) for s in COMPOSITES} == {s.name: [] for s in COMPOSITES}


@pytest.mark.parametrize("spec", COMPOSITES, ids=lambda s: s.name)
@given(data=st.data())
def test_composite_contract(spec, data):
    check_op(spec, data.draw)


def test_docs_state_the_enrolled_counts():
    """docs/testing.md quotes how many ops CI checks: keep it true."""
    import re
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "docs" / "testing.md").read_text()
    primitives = len(builtin_specs())
    assert f"**{primitives} enrolled primitives**" in text
    assert f"**{len(COMPOSITES)} composites**" in text
    stated = int(re.search(r"([\d ]+) examples in all", text).group(1).replace(" ", ""))
    assert stated == 40 * (primitives + len(COMPOSITES))
