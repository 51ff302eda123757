"""prod and cumprod gradients where the quick formula z / x fails: zeros, products that
underflow to subnormal or to 0, single subnormal elements, negative values, float32 and
float64, over axis None and an axis, first order and under create_graph.

The references are exact: every float is a rational number, so the products without each
element are formed with ``fractions.Fraction`` in plain Python loops and rounded once."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

import autograd_nn as ag
from autograd_nn.ops import scan
from autograd_nn.testing import gradcheck, gradgradcheck


# ------------------------------------------------------------- exact references
def _product(values) -> Fraction:
    p = Fraction(1)
    for v in values:
        p *= Fraction(float(v))
    return p


def _prod_grad_1d(x, g) -> list[Fraction]:
    """δxₖ = δz · ∏ⱼ≠ₖ xⱼ, exactly."""
    return [Fraction(float(g)) * _product(v for j, v in enumerate(x) if j != k) for k in range(len(x))]


def _cumprod_grad_1d(x, g) -> list[Fraction]:
    """δxₖ = Σᵢ≥ₖ δzᵢ · ∏ⱼ≤ᵢ, ⱼ≠ₖ xⱼ, exactly."""
    n = len(x)
    return [
        sum((Fraction(float(g[i])) * _product(x[j] for j in range(i + 1) if j != k) for i in range(k, n)), Fraction(0))
        for k in range(n)
    ]


def _along_slices(x: np.ndarray, g: np.ndarray, axis, rule, keeps_axis: bool) -> np.ndarray:
    """Apply a 1-D gradient rule to every slice along ``axis`` (None: the flattened array)."""
    if axis is None:
        flat_g = np.ravel(g) if keeps_axis else g
        return np.array([float(v) for v in rule(np.ravel(x), flat_g)], dtype=x.dtype).reshape(x.shape)
    moved_x = np.moveaxis(x, axis, -1)
    moved_g = np.moveaxis(g, axis, -1) if keeps_axis else g
    out = np.empty(moved_x.shape, dtype=x.dtype)
    for index in np.ndindex(moved_x.shape[:-1]):
        out[index] = [float(v) for v in rule(moved_x[index], moved_g[index])]
    return np.moveaxis(out, -1, axis)


def prod_reference(x: np.ndarray, g, axis) -> np.ndarray:
    return _along_slices(x, np.asarray(g), axis, _prod_grad_1d, keeps_axis=False)


def cumprod_reference(x: np.ndarray, g: np.ndarray, axis) -> np.ndarray:
    return _along_slices(x, np.asarray(g), axis, _cumprod_grad_1d, keeps_axis=True)


def _assert_close(got: np.ndarray, want: np.ndarray) -> None:
    # A few roundings of relative error on normal values; a few units of the last place on
    # subnormal ones. The bugs these tests guard against are off by 1 % to 100 %.
    info = np.finfo(want.dtype)
    assert got.dtype == want.dtype
    np.testing.assert_allclose(got, want, rtol=16 * info.eps, atol=4 * info.smallest_subnormal)


def test_the_exact_references_agree_with_hand_values():
    # the references themselves, on values small enough to check by eye
    np.testing.assert_array_equal(prod_reference(np.array([2.0, 3.0, 5.0]), 0.5, None), [7.5, 5.0, 3.0])
    # z = [2, 6, 30]: δx₀ = g₀ + 3g₁ + 15g₂, δx₁ = 2g₁ + 10g₂, δx₂ = 6g₂
    got = cumprod_reference(np.array([2.0, 3.0, 5.0]), np.array([1.0, 10.0, 100.0]), None)
    np.testing.assert_array_equal(got, [1 + 30 + 1500, 20 + 1000, 600])
    # the case z / x gets wrong (z = 1e-323 keeps 2 bits): the reference gives the other factor
    np.testing.assert_array_equal(prod_reference(np.array([1e-200, 1e-123]), 1.0, None), [1e-123, 1e-200])


# --------------------------------------------------------------------- 1-D cases
# (values, what they exercise); each also in float32 with the exponents scaled to its range.
CASES_64 = [
    ([5e-324], "one subnormal element (the smallest)"),
    ([1e-310], "one subnormal element"),
    ([-2e-320], "one negative subnormal element"),
    ([1e-200, 1e-123], "a product that underflows to a subnormal with 2 bits left"),
    ([1e-200, 1e-120], "a product that underflows to a subnormal"),
    ([-1e-160, 3e-160, 2.0], "negative factors, a subnormal product"),
    ([1e-200, 1e-200], "a product that underflows to 0"),
    ([1e-170, -1e-160, 0.5, 3.0], "a product that underflows to 0, negative"),
    ([5e-324, 0.0], "a subnormal before a zero"),
    ([1e-200, 1e-200, 0.0], "an underflow to 0 before a zero"),
    ([5e-324, 2.0, 0.0, 3.0], "a subnormal, a zero, then more"),
    ([0.0, 1e-200, 1e-123], "a zero first, then an underflow"),
    ([0.0, 2.0, 0.0], "two zeros"),
    ([1.5, -2.0, 0.5], "ordinary values"),
]
CASES_32 = [
    ([1e-45], "one subnormal element (the smallest)"),
    ([1e-40], "one subnormal element"),
    ([-3e-42], "one negative subnormal element"),
    ([1e-25, 1e-19], "a product that underflows to a subnormal"),
    ([-1e-20, 3e-20, 2.0], "negative factors, a subnormal product"),
    ([1e-25, 1e-25], "a product that underflows to 0"),
    ([1e-45, 0.0], "a subnormal before a zero"),
    ([1e-25, 1e-25, 0.0], "an underflow to 0 before a zero"),
    ([1.5, -2.0, 0.5], "ordinary values"),
]
CASES = [pytest.param(np.float64, v, id=f"float64-{why}") for v, why in CASES_64]
CASES += [pytest.param(np.float32, v, id=f"float32-{why}") for v, why in CASES_32]


def _cotangent(n: int, dtype) -> np.ndarray:
    return np.linspace(0.5, 1.5, n).astype(dtype) * np.where(np.arange(n) % 2, -1, 1).astype(dtype)


@pytest.mark.parametrize(("dtype", "values"), CASES)
def test_prod_gradient_is_the_product_of_the_others(dtype, values):
    x = ag.tensor(np.array(values, dtype=dtype), requires_grad=True)
    g = dtype(0.126)
    x.prod().backward(np.array(g, dtype=dtype))
    _assert_close(x.grad.data, prod_reference(x.data, g, None))


@pytest.mark.parametrize(("dtype", "values"), CASES)
def test_cumprod_gradient_is_the_sum_of_the_products_without_each(dtype, values):
    x = ag.tensor(np.array(values, dtype=dtype), requires_grad=True)
    g = _cotangent(len(values), dtype)
    x.cumprod().backward(g)
    _assert_close(x.grad.data, cumprod_reference(x.data, g, None))


@pytest.mark.parametrize(("dtype", "values"), CASES)
@pytest.mark.parametrize("op", ["prod", "cumprod"])
def test_the_create_graph_gradient_has_the_same_exact_values(op, dtype, values):
    x = ag.tensor(np.array(values, dtype=dtype), requires_grad=True)
    out = getattr(x, op)()
    g = _cotangent(out.size, dtype).reshape(out.shape)
    (dx,) = ag.grad(out, x, grad_outputs=g, create_graph=True)
    reference = prod_reference(x.data, g, None) if op == "prod" else cumprod_reference(x.data, g, None)
    _assert_close(dx.data, reference)


def test_a_small_cotangent_times_a_normal_product_is_not_lost():
    # z = 1e-300 is normal, but δz · z = 1e-330 underflows to 0: δx = δz · 1 = 1e-30 is not
    x = ag.tensor([1e-300], requires_grad=True)
    x.cumprod().backward(np.array([1e-30]))
    assert x.grad.data[0] == 1e-30


# ---------------------------------------------------------- along an axis, and FD
GRID = np.array([[1e-200, 2.0, -1e-160], [1e-123, 5e-324, 3e-160], [0.5, -1.5, 2.0]])


@pytest.mark.parametrize("axis", [None, 0, 1, -1])
@pytest.mark.parametrize("op, reference", [("prod", prod_reference), ("cumprod", cumprod_reference)])
def test_products_along_an_axis_match_the_exact_products(op, reference, axis):
    x = ag.tensor(GRID.copy(), requires_grad=True)
    out = getattr(x, op)(axis=axis)
    g = _cotangent(out.size, np.float64).reshape(out.shape)
    out.backward(g)
    _assert_close(x.grad.data, reference(GRID, g, axis))


@pytest.mark.parametrize("values", [v for v, _ in CASES_64] + [GRID])
@pytest.mark.parametrize("op", ["prod", "cumprod"])
def test_gradients_agree_with_finite_differences(op, values):
    # FD in float64 sees the O(1) entries (5e-324 alone gives δx = δz, not 0); the exact
    # references above see the tiny ones, which FD's absolute tolerance cannot.
    x = ag.tensor(np.array(values, dtype=np.float64), requires_grad=True)
    for axis in [None] + list(range(x.ndim)):
        fn = _method(op, axis)
        assert gradcheck(fn, [x])
        assert gradgradcheck(fn, [x])


def _method(op: str, axis):
    return lambda t: getattr(t, op)(axis=axis)


# ------------------------------------------------------------------ the quick path
def test_ordinary_inputs_keep_the_quick_cumprod_path(monkeypatch, rng):
    def refuse(*args):
        raise AssertionError("the O(n²) exact path was taken for ordinary inputs")

    monkeypatch.setattr(scan, "_without_each", refuse)
    values = rng.uniform(0.5, 2.0, (3, 50)) * np.where(rng.random((3, 50)) < 0.5, -1, 1)
    x = ag.tensor(values, requires_grad=True)
    g = rng.standard_normal((3, 50))
    x.cumprod(axis=1).backward(g)
    _assert_close(x.grad.data, cumprod_reference(values, g, 1))
