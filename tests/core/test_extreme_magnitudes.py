"""Gradients where a textbook formula overflows, underflows or rounds away what it needs:
subnormal and tiny inputs, inputs whose square overflows (|x| > 1e154), ties of large
magnitude, zeros inside a p-norm with p < 1, constant slices.

The contract test draws from [−3, 3] and never reaches these. Expected values are closed
forms evaluated exactly with ``fractions.Fraction`` on the stored floats (where the float
evaluation of the formula is the very thing that fails) and rounded once, or, at a kink,
PyTorch's convention, written out by hand.
"""

from __future__ import annotations

import numpy as np

import autograd_nn as ag


def _grads(fn, *arrays, create_graph=False):
    """The gradients of fn(*tensors).sum() (cotangent 1) with respect to each input."""
    xs = [ag.tensor(np.array(a, dtype=np.float64), requires_grad=True) for a in arrays]
    with np.errstate(all="ignore"):
        return [g.data for g in ag.grad(fn(*xs).sum(), xs, create_graph=create_graph)]


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
