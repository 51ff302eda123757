"""Ops in the tails of their inputs, far outside the domains their contract tests draw from:
logits of ±15 … ±700, arguments a few ulps from the edge of an inverse function's domain.
Each op must keep its relative accuracy wherever the true value is representable.

Expected values are closed forms: ``math`` in float64 (for float32 inputs, and where the
function is correctly rounded to within an ulp), or ``fractions.Fraction`` on the stored
floats, rounded once, where the float evaluation of the formula is the very thing that fails.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

import autograd_nn as ag
from autograd_nn import functional as F

FLOATS = [np.float64, np.float32]


def _value_and_grad(fn, x, dtype):
    t = ag.tensor(np.array(x, dtype=dtype), requires_grad=True)
    with np.errstate(all="ignore"):
        out = fn(t)
        out.sum().backward()
    return out.data, t.grad.data


def _close(actual, expected, dtype, ulps=4):
    """Within a few ulps of the closed form, relative to each element (no absolute floor)."""
    np.testing.assert_allclose(actual, np.asarray(expected).astype(dtype), rtol=ulps * np.finfo(dtype).eps, atol=0)


@pytest.mark.parametrize("dtype", FLOATS)
def test_expm1_has_slope_e_to_the_z_where_its_value_rounds_to_minus_one(dtype):
    # a + 1 with a = eᶻ − 1 gave 0 for z < −37 (float64; −17 in float32): a is −1 there.
    z = [-18.0, -20.0, -40.0, -80.0] + ([-100.0, -300.0, -700.0] if dtype == np.float64 else [])
    value, slope = _value_and_grad(lambda t: t.expm1(), z, dtype)
    stored = np.array(z, dtype=dtype).astype(np.float64)
    _close(value, [math.expm1(v) for v in stored], dtype)
    _close(slope, [math.exp(v) for v in stored], dtype)


def _exact(rule, values) -> np.ndarray:
    return np.array([float(rule(Fraction(float(v)))) for v in values])


@pytest.mark.parametrize("dtype", FLOATS)
def test_inverse_function_slopes_keep_their_digits_near_the_domain_edge(dtype):
    # 1 − z² lost digits near ±1 (z = 1 − 1e-8: 1e6 ulps off in float64, 200 in float32 at 1 − 1e-4);
    # (1 − z)(1 + z) is exact there, as z − 1 is near 1 for arccosh.
    gaps = [1e-4, 1e-6, 1e-8, 1e-10, 1e-12] if dtype == np.float64 else [1e-3, 1e-4, 3e-5]
    z = np.array([s * (1 - g) for g in gaps for s in (1, -1)], dtype=dtype)
    one_minus_square = _exact(lambda v: (1 - v) * (1 + v), z)  # one rounding, then math's sqrt: ≤ 1.5 ulps
    _, slope = _value_and_grad(lambda t: t.arctanh(), z, dtype)
    _close(slope, _exact(lambda v: 1 / ((1 - v) * (1 + v)), z), dtype)
    _, slope = _value_and_grad(lambda t: t.arcsin(), z, dtype)
    _close(slope, [1 / math.sqrt(v) for v in one_minus_square], dtype)
    _, slope = _value_and_grad(lambda t: t.arccos(), z, dtype)
    _close(slope, [-1 / math.sqrt(v) for v in one_minus_square], dtype)
    above = np.array([1 + g for g in gaps], dtype=dtype)
    _, slope = _value_and_grad(lambda t: t.arccosh(), above, dtype)
    _close(slope, [1 / math.sqrt(v) for v in _exact(lambda v: (v - 1) * (v + 1), above)], dtype)


def _softplus(v: float) -> float:
    """ln(1 + eᵛ) in float64 from math, for the v < 0 where it is small."""
    return math.log1p(math.exp(v))


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("q", [None, 2.0, 0.5])
def test_bce_with_logits_keeps_the_small_loss_of_a_confident_right_answer(dtype, q):
    # softplus(z) − z·y rounded softplus(z) to z for y = 1 and z ≥ 35 (float64; 15 in float32):
    # loss 0, not e⁻ᶻ. With pos_weight, z + softplus(−z) did the same for y = 0 and z ≪ 0.
    far = [15.0, 17.0, 20.0, 40.0, 80.0] + ([100.0, 300.0, 700.0] if dtype == np.float64 else [])
    z = np.array(far + [-v for v in far], dtype=dtype)
    y = np.array([1.0] * len(far) + [0.0] * len(far), dtype=dtype)
    weight = 1.0 if q is None else q
    pos_weight = None if q is None else np.array(q, dtype=dtype)
    loss, slope = _value_and_grad(
        lambda t: F.binary_cross_entropy_with_logits(t, y, reduction="none", pos_weight=pos_weight), z, dtype
    )
    stored = z.astype(np.float64)
    expected = [(weight if label else 1.0) * _softplus(-abs(v)) for v, label in zip(stored, y)]
    _close(loss, expected, dtype)
    # δz = (1 − y) σ(z) − q y σ(−z) is ∓ σ(−|z|) here, to its last digits too (δz = f σ(−|z|) − (y − m)
    # with fold f = ∓1: the second term is exactly 0, nothing cancels)
    tail = [math.exp(-abs(v)) / (1 + math.exp(-abs(v))) for v in stored]
    _close(slope, [(-weight if label else 1.0) * s for s, label in zip(tail, y)], dtype)
    # the rewrite keeps both derivatives: δy = −z + (q − 1) softplus(−z), δz = (1 − y) σ(z) − q y σ(−z),
    # z = 0 included, where −|z| folded as −z·sign(z) would have no slope: δz = −y, not ½ − y
    z = np.array([-30.0, -2.0, -0.5, 0.0, 0.5, 2.0, 30.0], dtype=dtype)
    target = ag.tensor(np.array([0.0, 0.3, 1.0, 0.5, 0.0, 0.7, 1.0], dtype=dtype), requires_grad=True)
    logits = ag.tensor(z, requires_grad=True)
    F.binary_cross_entropy_with_logits(logits, target, reduction="sum", pos_weight=pos_weight).backward()
    stored, labels = z.astype(np.float64), target.data.astype(np.float64)
    tolerance = 8 * np.finfo(dtype).eps
    expected = [-v + (weight - 1) * math.log1p(math.exp(-v)) for v in stored]
    np.testing.assert_allclose(target.grad.data, expected, rtol=tolerance, atol=tolerance)
    s = 1 / (1 + np.exp(-stored))
    slope = (1 - labels) * s - weight * labels * (1 - s)
    np.testing.assert_allclose(logits.grad.data, slope, rtol=tolerance, atol=tolerance)
