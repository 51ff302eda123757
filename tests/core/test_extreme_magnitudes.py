"""Gradients where a textbook formula overflows, underflows or rounds away what it needs:
subnormal and tiny inputs, inputs whose square overflows (|x| > 1e154), ties of large
magnitude, zeros inside a p-norm with p < 1, constant slices.

The contract test draws from [−3, 3] and never reaches these. Expected values are closed
forms evaluated exactly with ``fractions.Fraction`` on the stored floats (where the float
evaluation of the formula is the very thing that fails) and rounded once, or, at a kink,
PyTorch's convention, written out by hand.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

import autograd_nn as ag
from autograd_nn import functional as F


def _grads(fn, *arrays, create_graph=False):
    """The gradients of fn(*tensors).sum() (cotangent 1) with respect to each input."""
    xs = [ag.tensor(np.array(a, dtype=np.float64), requires_grad=True) for a in arrays]
    with np.errstate(all="ignore"):
        return [g.data for g in ag.grad(fn(*xs).sum(), xs, create_graph=create_graph)]


def _exact(rule, *columns) -> np.ndarray:
    """rule(Fraction, ...) for each row of the columns, rounded once to float64."""
    return np.array([float(rule(*(Fraction(float(v)) for v in row))) for row in zip(*columns)])


def test_x_to_the_zero_has_slope_zero_where_one_over_x_overflows():
    # y · xʸ⁻¹ = 0 · ∞ = nan for |x| < 5.6e-309, where 1/x overflows; PyTorch masks every y = 0.
    x = [5e-324, 1e-310, -1e-310, 0.0, 2.0]
    gx, gy = _grads(lambda a, b: a**b, x, np.zeros(5))
    np.testing.assert_array_equal(gx, np.zeros(5))
    assert np.isfinite(gy[[0, 1, 3, 4]]).all()  # x⁰ · ln x (0 at x = 0; nan for x < 0, as PyTorch)
    (slope,) = _grads(lambda a: a**0.0, x)
    np.testing.assert_array_equal(slope, np.zeros(5))
    # under create_graph the slope is 0 too, and its own derivative finite
    t = ag.tensor(np.array(x), requires_grad=True)
    (first,) = ag.grad((t**0.0).sum(), t, create_graph=True)
    np.testing.assert_array_equal(first.data, np.zeros(5))
    assert np.isfinite(ag.grad(first.sum(), t)[0].data).all()


def test_the_divisor_slope_is_exact_where_its_square_overflows_or_underflows():
    # y² overflows past 1e154 (δy was 0) and is subnormal or 0 below 1e-154 (inexact, or x/0).
    x = [1e200, 1e-170, 0.0, 1e-160, 3.0, -2e250]
    y = [1e200, 1e-170, 1e-200, 1e-160, -1e170, 1e160]
    gx, gy = _grads(lambda a, b: a / b, x, y)
    np.testing.assert_allclose(gx, _exact(lambda a, b: 1 / b, x, y), rtol=1e-15)
    np.testing.assert_allclose(gy, _exact(lambda a, b: -a / (b * b), x, y), rtol=1e-15, atol=0)
    assert gy[2] == 0.0  # −0 / y², not 0 / 0


def test_hypot_slopes_stay_in_range_where_the_hypotenuse_is_subnormal():
    # δz / z overflowed for z < 5.6e-309: hypot(0, 1e-310) had δx = ∞ · 0 = nan and δy = ∞.
    x = [0.0, 1e-310, -2e-310, 1e-310, 3e-200]
    y = [1e-310, 0.0, 0.0, 1e-310, 4e-200]
    gx, gy = _grads(ag.hypot, x, y)
    # x / hypot(x, y); the subnormal hypotenuse (1.4e-310) is stored to about 14 digits
    half = math.sqrt(0.5)
    np.testing.assert_allclose(gx, [0.0, 1.0, -1.0, half, 0.6], rtol=1e-12, atol=0)
    np.testing.assert_allclose(gy, [1.0, 0.0, 0.0, half, 0.8], rtol=1e-12, atol=0)


def test_arctan2_slopes_where_the_squared_radius_overflows_or_underflows():
    # x² + y² is 0 below 1e-162 (δ was ∞ or nan) and overflows past 1e154 (δ was 0).
    y = [0.0, 1e-200, 1e200, 3e-170, -1e-300]
    x = [1e-200, 0.0, 1e200, 4e-170, 2e-300]
    gy, gx = _grads(ag.arctan2, y, x)
    np.testing.assert_allclose(gy, _exact(lambda b, a: a / (a * a + b * b), y, x), rtol=2e-15, atol=0)
    np.testing.assert_allclose(gx, _exact(lambda b, a: -b / (a * a + b * b), y, x), rtol=2e-15, atol=0)


@pytest.mark.parametrize(("op", "base"), [(ag.logaddexp, math.e), (ag.logaddexp2, 2.0)], ids=["e", "2"])
def test_logaddexp_splits_its_slope_evenly_at_a_tie_of_large_inputs(op, base):
    # z = x + ln 2 rounds to x once |x| ≳ 1e16, so e^(x − z) = e^(y − z) = 1 summed to 2.
    x = [1e20, -1e200, 1e17, 3.0, -1e300]
    y = [1e20, -1e200, 1e17 + 16, 3.5, -1e300]
    gx, gy = _grads(op, x, y)
    expected = [1 / (1 + base ** (b - a)) for a, b in zip(x, y)]  # y − x is exact for these
    np.testing.assert_allclose(gx, expected, rtol=1e-15)
    np.testing.assert_allclose(gx + gy, np.ones(5), rtol=1e-15)
    (first,) = _grads(op, x, y, create_graph=True)[:1]
    np.testing.assert_allclose(first, expected, rtol=1e-15)


def test_logsumexp_splits_its_slope_evenly_at_a_tie_of_large_inputs():
    # z = max + ln Σ rounds to the max once |max| ≳ 1e16, so e^(x − z) gave both maxima
    # slope 1; the slopes are the softmax, summing to 1 (PyTorch's logsumexp has the fault).
    x = np.array([[1e20, 1e20, 0.0], [1e17, 1e17 + 16, -1e300], [-1e200, -1e200, -1e200]])
    expected = [[0.5, 0.5, 0.0], [1 / (1 + math.exp(16)), 1 / (1 + math.exp(-16)), 0.0], [1 / 3] * 3]
    for create_graph in (False, True):
        (g,) = _grads(lambda t: t.logsumexp(axis=1), x, create_graph=create_graph)
        np.testing.assert_allclose(g, expected, rtol=1e-15)


def test_a_p_norm_below_one_gives_a_zero_element_slope_zero():
    # p = 0.5: z = (Σ√|x|)² = 9 and δxᵢ = (|xᵢ| / z)^(p − 1) = 3 / √|xᵢ|; at xᵢ = 0 that is
    # ∞ · sign(0) = nan in the textbook formula, and 0 in PyTorch's.
    (g,) = _grads(lambda t: ag.norm(t, ord=0.5, axis=0), [0.0, 1.0, -4.0])
    np.testing.assert_allclose(g, [0.0, 3.0, -1.5], rtol=1e-15)


@pytest.mark.parametrize("ord_", [-1, -2, -0.5])
def test_a_negative_p_norm_vanishes_at_a_zero_with_slope_zero(ord_):
    # (Σ|x|ᵖ)^(1/p) with p < 0 is 0 whenever one |x| is 0, for any other x: δx = 0 there
    # (PyTorch's), where dividing by z = 0 replaced by 1 gave the other elements slope 1.
    x = ag.tensor([0.0, 1.0, -3.0], requires_grad=True)
    with np.errstate(divide="ignore"):
        z = ag.norm(x, ord=ord_, axis=0)
        z.backward()
    assert z.item() == 0.0
    np.testing.assert_array_equal(x.grad.data, np.zeros(3))


def test_a_negative_p_norm_without_zeros_has_the_closed_form_slope():
    # p = −1: z = 1 / (1/2 + 1/1) = 2/3 and δxᵢ = z² / xᵢ²
    (g,) = _grads(lambda t: ag.norm(t, ord=-1, axis=0), [2.0, 1.0])
    np.testing.assert_allclose(g, [1 / 9, 4 / 9], rtol=1e-15)


@pytest.mark.parametrize(("ord_", "x"), [(2, [1e-200, -1e-200]), (3, [1e-120, 1e-120]), (1.5, [1e-250, 0.0])])
def test_a_norm_that_underflows_to_zero_has_slope_zero(ord_, x):
    # Σ|x|ᵖ underflows to 0 (as numpy's, z = 0): the computed norm is flat 0 there, and δx
    # is PyTorch's 0, not x / 1 (1e-200) from dividing by z replaced by 1.
    with np.errstate(under="ignore"):
        assert ag.norm(ag.tensor(x), ord=ord_, axis=0).item() == 0.0
    (g,) = _grads(lambda t: ag.norm(t, ord=ord_, axis=0), x)
    np.testing.assert_array_equal(g, np.zeros(2))


@pytest.mark.parametrize("ddof", [0, 1])
def test_std_of_a_constant_slice_has_slope_zero(ddof):
    # √var has slope ∞ at var = 0, so δx = ∞ · 0 = nan; PyTorch's std gives 0 there. A row
    # whose deviations' squares underflow (var 0, as numpy's) is flat 0 too.
    x = np.array([[2.0, 2.0, 2.0], [1e-200, 3e-200, 2e-200], [1.0, 2.0, 4.0]])
    s = ag.tensor(x).std(axis=1, ddof=ddof)
    np.testing.assert_allclose(s.data, np.std(x, axis=1, ddof=ddof), rtol=1e-15)
    (g,) = _grads(lambda t: t.std(axis=1, ddof=ddof), x)
    np.testing.assert_array_equal(g[:2], np.zeros((2, 3)))
    # the ordinary row: δx = (x − x̄) / ((n − ddof) σ)
    row = x[2]
    sigma = np.sqrt(((row - row.mean()) ** 2).sum() / (3 - ddof))
    np.testing.assert_allclose(g[2], (row - row.mean()) / ((3 - ddof) * sigma), rtol=1e-14)


@pytest.mark.parametrize("q", [None, 2.0])
def test_bce_with_logits_keeps_the_loss_of_a_confident_right_answer(q):
    # softplus's linear cut-off past z = 20 (F.softplus's default) dropped ln(1 + e⁻ᶻ), the
    # whole loss of a right answer: loss and δz were 0, not ±1.25e-9 at |z| = 20.5.
    z = np.array([20.5, 25.0, 30.0, -20.5, -25.0])
    y = np.array([1.0, 1.0, 1.0, 0.0, 0.0])
    small = np.exp(-np.abs(z))
    right = np.log1p(small)  # −ln σ(|z|): the loss where the sign of z is y's
    weight = 1.0 if q is None else q
    pos_weight = None if q is None else np.array(q)
    x = ag.tensor(z, requires_grad=True)
    loss = F.binary_cross_entropy_with_logits(x, y, reduction="none", pos_weight=pos_weight)
    loss.sum().backward()
    np.testing.assert_allclose(loss.data, np.where(y == 1, weight, 1.0) * right, rtol=0, atol=4 * np.spacing(30.0))
    # δz = (1 − y) σ(z) − q y σ(−z), where σ(−|z|) = e^(−|z|) / (1 + e^(−|z|))
    expected = np.where(y == 1, -weight, 1.0) * small / (1 + small)
    np.testing.assert_allclose(x.grad.data, expected, rtol=0, atol=1e-15)
