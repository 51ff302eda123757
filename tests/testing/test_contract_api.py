"""The op contract's building blocks, each on its own: the difference stencils, the shape
families and array kinds that draw inputs, one drawn Case, check_case, spec_of, and the
strategies bounded and advanced_indices."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import Phase, given, settings
from hypothesis import strategies as st

import autograd_nn as ag
from autograd_nn.ops import Add, Concatenate, Matmul, Mul, Sum
from autograd_nn.opspec import op_spec
from autograd_nn.registry import OP_REGISTRY
from autograd_nn.testing import SCHEMES
from autograd_nn.testing import strategies as ats
from autograd_nn.testing.contract import (
    ARRAY_KINDS,
    SHAPE_FAMILIES,
    Case,
    OpContractError,
    ShapeFamily,
    check_case,
    check_op,
    draw_case,
    spec_of,
)


# ----------------------------------------------------------------------- stencils
def test_schemes_are_the_central_and_five_point_stencils():
    assert SCHEMES == {"central": ({1: 1}, 2), "five_point": ({1: 8, 2: -1}, 12)}
    for weights, denominator in SCHEMES.values():
        # Σ cₖ (f(x+kε) − f(x−kε)) / (Dε) is exact for f = x (first order) ...
        assert sum(c * 2 * k for k, c in weights.items()) == denominator
    five, _ = SCHEMES["five_point"]
    assert sum(c * 2 * k**3 for k, c in five.items()) == 0  # ... and five-point for x³ as well


# ------------------------------------------------------------------ shape families
def test_every_shape_family_is_a_shape_family_with_its_parameters():
    assert set(SHAPE_FAMILIES) == {
        "elementwise", "same", "matmul", "reduction", "axis", "reshape", "transpose", "broadcast_to", "index",
        "index_add", "concatenate", "setitem", "ddof", "squeeze", "expand_dims", "swapaxes", "stack", "nonscalar",
    }  # fmt: skip
    assert all(isinstance(family, ShapeFamily) for family in SHAPE_FAMILIES.values())
    assert SHAPE_FAMILIES["reduction"].provides == ("axis", "keepdims")
    assert SHAPE_FAMILIES["index_add"].provides == ("shape", "index")
    assert SHAPE_FAMILIES["matmul"].arity == 2 and SHAPE_FAMILIES["concatenate"].arity is None
    assert SHAPE_FAMILIES["elementwise"].arity == "any" and SHAPE_FAMILIES["reshape"].arity == 1


@given(st.data())
def test_families_draw_shapes_the_numpy_function_accepts(data):
    x_shape, y_shape = SHAPE_FAMILIES["matmul"].draw_shapes(data.draw, spec_of(Matmul))[0]
    np.matmul(np.zeros(x_shape), np.zeros(y_shape))
    shapes, params = SHAPE_FAMILIES["elementwise"].draw_shapes(data.draw, spec_of(Add))
    assert len(shapes) == 2 and params == {}
    np.broadcast_shapes(*shapes)
    (shape,), params = SHAPE_FAMILIES["reduction"].draw_shapes(data.draw, spec_of(Sum))
    assert set(params) == {"axis", "keepdims"}
    np.sum(np.zeros(shape), **params)
    shapes, params = SHAPE_FAMILIES["concatenate"].draw_shapes(data.draw, spec_of(Concatenate))
    assert 1 <= len(shapes) <= 3 and set(params) == {"axis"}
    np.concatenate([np.zeros(s) for s in shapes], axis=params["axis"])
    (shape,), params = SHAPE_FAMILIES["index_add"].draw_shapes(data.draw, spec_of(Sum))
    assert np.zeros(params["shape"])[params["index"]].shape == shape


# --------------------------------------------------------------------- array kinds
@given(st.data())
def test_array_kinds_fit_the_input_shapes(data):
    assert set(ARRAY_KINDS) == {"probabilities", "mask", "labels"}
    shape = data.draw(ats.shapes(min_dims=1, max_dims=3, max_side=3))
    p = ARRAY_KINDS["probabilities"](data.draw, [shape])
    assert p.shape == shape and np.all((p >= 0) & (p <= 1))
    mask = ARRAY_KINDS["mask"](data.draw, [shape, shape])
    assert mask.dtype == np.bool_ and np.broadcast_shapes(mask.shape, shape) == shape
    n, classes = data.draw(st.integers(1, 4)), data.draw(st.integers(1, 5))
    labels = ARRAY_KINDS["labels"](data.draw, [(n, classes)])
    assert labels.shape == (n,) and labels.dtype == np.int64 and np.all((labels >= 0) & (labels < classes))
    with pytest.raises(ValueError, match=r"array kind 'labels' needs a first input of shape \(N, C\)"):
        ARRAY_KINDS["labels"](data.draw, [(2, 3, 4)])


# ----------------------------------------------------------------------- one case
@given(st.data())
def test_a_drawn_case_fits_its_spec(data):
    spec = spec_of(Mul)
    case = draw_case(data.draw, spec)
    assert isinstance(case, Case) and case.spec is spec
    assert len(case.inputs) == len(case.requires_grad) == 2 and any(case.requires_grad)
    ((lo, hi),) = spec.domain_of(0)
    assert all(np.all((a >= lo) & (a <= hi)) for a in case.inputs)
    assert case.params == {} and 0 <= case.seed < 2**32


# max |x| of 16 values in (−0.1, 0.1): the plain grid there has 50 points in 25 mirrored
# pairs, so 16 of them almost always hold a pair that ties in |x|; distinct_abs must not.
MAX_ABS = op_spec(
    lambda x: x.abs().max(), reference=lambda x: np.abs(x).max(), shapes=lambda draw: ([(16,)], {}),
    domain=(-0.1, 0.1), distinct_abs=True, name="max_abs",
)  # fmt: skip


@given(st.data())
def test_a_drawn_case_keeps_absolute_values_apart_when_the_spec_says_distinct_abs(data):
    case = draw_case(data.draw, MAX_ABS)
    (x,) = case.inputs
    assert x.shape == (16,) and np.all((x > -0.1) & (x < 0.1))
    magnitudes = np.sort(np.abs(x))
    assert magnitudes[0] >= ats.KINK_MARGIN and np.diff(magnitudes).min() >= ats.KINK_MARGIN
    check_case(case)  # so max |x| passes its contract: no tie for finite differences to straddle


def test_a_case_describes_itself_and_is_checked():
    x, y = np.array([[1.0, 2.0]]), np.array([3.0, -1.0])
    case = Case(spec=spec_of(Mul), inputs=[x, y], params={}, requires_grad=[True, False], seed=3)
    assert case.inputs[0] is x and case.params == {} and case.seed == 3
    assert case.describe() == "Mul with input shapes [(1, 2), (2,)], params {}, requires_grad [True, False]"
    check_case(case)  # a right op passes, inputs untouched
    np.testing.assert_array_equal(x, [[1.0, 2.0]])
    wrong = Case(replace(spec_of(Add), reference=np.multiply), [x, y], {}, [True, True], seed=3)
    with pytest.raises(OpContractError, match=r"(?s)Add with input shapes \[\(1, 2\), \(2,\)\].*forward vs reference"):
        check_case(wrong)


def test_spec_of_finds_the_registered_spec_and_names_an_unregistered_op():
    spec = spec_of(Mul)
    assert spec.function is Mul and spec.name == "Mul" and spec in OP_REGISTRY.values()

    class Unregistered(ag.Function):
        pass

    with pytest.raises(LookupError, match=r"Unregistered is not registered: decorate it with @register_op"):
        spec_of(Unregistered)


# ------------------------------------------------------------------------ strategies
@given(ats.bounded(), ats.bounded(-6.0, 2.0, avoid=[0.0]))
def test_bounded_floats_stay_in_their_range(default, custom):
    assert -1.0 <= default <= 1.0
    assert -6.0 <= custom <= 2.0 and abs(custom) >= ats.KINK_MARGIN


@given(st.data())
def test_advanced_indices_are_integer_arrays_or_masks_numpy_accepts(data):
    shape = data.draw(ats.shapes(min_dims=1, max_dims=3, max_side=4))
    index = data.draw(ats.advanced_indices(shape))
    picked = np.arange(int(np.prod(shape))).reshape(shape)[index]  # numpy accepts it
    parts = index if isinstance(index, tuple) else (index,)
    assert all(isinstance(p, np.ndarray) and p.dtype in (np.intp, np.bool_) for p in parts)
    assert picked.size >= 0
    with pytest.raises(ValueError, match="a 0-d array has no axis to index with arrays"):
        ats.advanced_indices(())


def test_positive_refuses_a_range_that_reaches_zero():
    with pytest.raises(ValueError, match="positive: low must be > 0, got 0"):
        ats.positive(0)
    with pytest.raises(ValueError, match="positive: low must be > 0, got -1"):
        ats.positive(-1, 1)


def test_check_op_catches_an_op_that_scribbles_on_its_input():
    # Its output ignores the input, so the results stay deterministic and the derivative (0)
    # right: only the in-place check can see what it does to the caller's array.
    class Scribbles(ag.Function):
        @staticmethod
        def forward(ctx, z):
            out = np.zeros_like(z)
            z[...] = 7.0  # overwrites the caller's array
            return out

        @staticmethod
        def backward(ctx, grad):
            return grad * 0

    @given(st.data())
    @settings(max_examples=5, database=None, phases=[Phase.generate])  # no shrinking: any example fails
    def run(data):
        check_op(Scribbles, data.draw, reference=np.zeros_like)

    with pytest.raises(OpContractError, match="the op modified its input in place"):
        run()
