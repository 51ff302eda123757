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
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd_nn as ag
import autograd_nn.ops
from autograd_nn import functional as F
from autograd_nn.opspec import op_spec
from autograd_nn.registry import OP_REGISTRY, register_op
from autograd_nn.testing import strategies as ats
from autograd_nn.testing.contract import (
    Case,
    OpContractError,
    builtin_specs,
    check_case,
    check_op,
    draw_case,
    spec_problems,
    unregistered_ops,
)

BUILTIN = builtin_specs()


# ------------------------------------------------------------------ the registry is whole
def test_the_registry_holds_primitives_composites_and_array_functions():
    kinds = {s.name: s.kind for s in BUILTIN}
    assert {kinds[n] for n in ("BinaryCrossEntropy", "IndexAdd", "Cast", "Concatenate", "SetItem")} == {"primitive"}
    assert {kinds[n] for n in ("var", "stack", "mse_loss", "dropout")} == {"composite"}
    assert {kinds[n] for n in ("less", "argmax", "isnan")} == {"array"}
    assert sorted(autograd_nn.ops.__all__) == sorted(n for n, k in kinds.items() if k == "primitive")


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


# ------------------------------------------------------- call forms the registry does not draw
# The shared test draws every input as an array; these are the scalar-operand and
# optional-argument forms of registered ops, checked the same way.
def test_var_with_ddof_at_least_the_count_is_nan_like_numpy():
    # Regression: this raised ZeroDivisionError instead of numpy's nan.
    x = np.array([[1.0, 2.0, 4.0]])
    with np.errstate(divide="ignore", invalid="ignore"), pytest.warns(RuntimeWarning):
        expected = np.var(x, axis=0, ddof=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        got = ag.tensor(x).var(axis=0, ddof=1)
    np.testing.assert_array_equal(got.data, expected)
    assert np.isnan(got.data).all()


def _linear_without_bias(draw):
    batch = draw(ats.shapes(max_dims=2, max_side=3))
    n_in, n_out = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    return [batch + (n_in,), (n_out, n_in)], {}


VARIANTS = [
    op_spec(
        lambda x, k: x**k,
        name="Tensor.__pow__(scalar)",
        arity=1,
        reference=lambda x, k: np.power(x, k),
        domain=(0.2, 3),
        params={"k": (2, 3, -1, 0.5)},
    ),
    op_spec(lambda x: 2.0**x, name="Tensor.__rpow__(scalar)", reference=lambda x: np.exp(x * np.log(2.0))),
    op_spec(
        lambda x: 1.0 / x, name="Tensor.__rtruediv__(scalar)", reference=np.reciprocal, domain=((-3, -0.3), (0.3, 3))
    ),
    op_spec(F.linear, name="linear(no bias)", arity=2, reference=lambda x, W: x @ W.T, shapes=_linear_without_bias),
    op_spec(
        lambda c, x, y: ag.where(c > 0, x, y),
        name="where(tensor condition)",
        reference=lambda c, x, y: np.where(c > 0, x, y),
        kinks=[0.0],
    ),
    op_spec(lambda x: x.clip(a_max=0.5), name="clip(a_max only)", reference=lambda x: np.minimum(x, 0.5), kinks=[0.5]),
]


def test_variant_specs_are_complete():
    assert {s.name: spec_problems(s) for s in VARIANTS} == {s.name: [] for s in VARIANTS}


@pytest.mark.parametrize("spec", VARIANTS, ids=lambda s: s.name)
@given(data=st.data())
def test_variant_contract(spec, data):
    check_op(spec, data.draw)


# ------------------------------------------------------------- float32 stays float32, every op
DTYPE_CHANGERS = {"Cast"}  # its purpose is another dtype (checked by the test above)


def _float32(value):
    return value.astype(np.float32) if isinstance(value, np.ndarray) and value.dtype == np.float64 else value


@pytest.mark.parametrize("spec", [s for s in BUILTIN if s.kind != "array" and s.name not in DTYPE_CHANGERS],
                         ids=lambda s: s.name)  # fmt: skip
@settings(max_examples=8, deadline=None)
@given(data=st.data())
def test_op_keeps_float32(spec, data):
    """float32 inputs give float32 outputs and float32 gradients (no silent float64 upcast)."""
    case = draw_case(data.draw, spec)
    params = {k: _float32(v) for k, v in case.params.items()}
    xs = [ag.tensor(_float32(a), requires_grad=r and a.dtype.kind == "f") for a, r in zip(case.inputs, case.requires_grad)]
    with np.errstate(all="ignore"):
        out = spec.apply(*xs, **params)
    outs = [o for o in (out if isinstance(out, (tuple, list)) else [out]) if isinstance(o, ag.Tensor)]
    assert all(o.dtype == np.float32 for o in outs if o.dtype.kind == "f"), [o.dtype for o in outs]
    differentiable = [o for o in outs if o.requires_grad]
    if differentiable:
        sum(o.sum() for o in differentiable).backward()
    assert all(x.grad.dtype == np.float32 for x in xs if x.grad is not None), [x.grad.dtype for x in xs if x.grad is not None]


def test_norm_ord_zero_counts_in_the_input_dtype():
    x = ag.tensor(np.array([[0.0, 2.0, -1.0], [0.0, 0.0, 3.0]], dtype=np.float32), requires_grad=True)
    counts = ag.norm(x, ord=0, axis=1)
    assert counts.dtype == np.float32 and counts.tolist() == [2.0, 1.0]
    counts.sum().backward()
    assert x.grad.dtype == np.float32 and not x.grad.numpy().any()  # a count: zero gradient


# ------------------------------------------------- norm: ties in |x| are kinks, never drawn
NORM = next(s for s in BUILTIN if s.name == "norm")


def test_a_tie_in_absolute_value_is_a_kink_the_contract_catches():
    # norm(ord=inf) = max |x|: at −2.998 beside 2.998 finite differences straddle the kink
    # (the example that once failed the contract test), so such inputs must not be drawn.
    case = Case(NORM, [np.array([-2.998, 2.998])], {"ord": np.inf, "axis": None, "keepdims": False}, [True], 0)
    with pytest.raises(OpContractError, match="finite differences"):
        check_case(case)


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_norm_inputs_are_drawn_distinct_in_absolute_value(data):
    assert NORM.distinct_abs
    magnitudes = np.sort(np.abs(draw_case(data.draw, NORM).inputs[0]).ravel())
    assert magnitudes[0] >= ats.KINK_MARGIN  # the kink of abs at 0
    assert magnitudes.size < 2 or np.diff(magnitudes).min() >= ats.KINK_MARGIN


# ------------------------------------- cumprod: a domain finite differences can check
CUMPROD = next(s for s in BUILTIN if s.name == "Cumprod")


@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_cumprod_at_the_edge_of_its_domain_is_within_reach_of_finite_differences(sign):
    # The largest input the contract draws, flattened (axis=None), at the domain's bound: with
    # a bound of 3 its products (3²⁷) made gradgradcheck fail on correct gradients.
    ((_, high),) = CUMPROD.domain_of(0)
    check_case(Case(CUMPROD, [np.full((3, 3, 3), sign * high)], {"axis": None}, [True], 1))
