"""Edge cases named in issue 12, each against an independent value (PyTorch's where it sets
the convention, else the closed form)."""

from __future__ import annotations

import numpy as np
import pytest

import autograd_nn as ag
from autograd_nn.testing import gradgradcheck


def test_the_slope_of_x_to_the_zero_is_zero_also_at_zero():
    x = ag.tensor([0.0, 0.0, 2.0], requires_grad=True)
    k = ag.tensor([0.0, 1.0, 0.0], requires_grad=True)
    (x**k).sum().backward()
    assert x.grad.tolist() == [0.0, 1.0, 0.0]  # d/dx x⁰ = 0; d/dx x¹ = 1 (even at 0)
    scalar = ag.tensor(0.0, requires_grad=True)
    (scalar**0).backward()
    assert scalar.grad.item() == 0.0
    # and its own derivative is finite too (create_graph), while y ≠ 0 keeps the true value
    (slope,) = ag.grad((x**k).sum(), x, create_graph=True)
    (mixed,) = ag.grad(slope[2], k, retain_graph=True)
    np.testing.assert_allclose(mixed.data, [0.0, 0.0, 1 / 2.0])  # ∂²(xʸ)/∂x∂y at y = 0 is 1/x
    assert np.isfinite(ag.grad(slope.sum(), x)[0].data).all()


def test_the_exponent_slope_of_zero_to_the_y_follows_pytorch():
    base = ag.tensor([0.0, 0.0, 2.0])
    exponent = ag.tensor([2.0, 0.0, 1.5], requires_grad=True)
    (base**exponent).sum().backward()
    # PyTorch: 0 where the base is 0 and y ≥ 0; z · ln x elsewhere
    np.testing.assert_allclose(exponent.grad.data, [0.0, 0.0, 2.0**1.5 * np.log(2.0)])
    with np.errstate(divide="ignore"):
        negative = ag.tensor([-1.0], requires_grad=True)
        (ag.tensor([0.0]) ** negative).sum().backward()
    assert negative.grad.item() == -np.inf  # 0⁻¹ = ∞ and its slope ∞ · ln 0, as PyTorch gives


def test_pow_second_derivatives_at_the_masked_points():
    x = ag.tensor([0.5, 1.5, 2.0], requires_grad=True)
    y = ag.tensor([0.0, 2.0, -1.0], requires_grad=True)
    assert gradgradcheck(lambda a, b: a**b, [x, y])


@pytest.mark.parametrize("op", ["sum", "mean", "max", "min", "prod", "logsumexp", "var", "std"])
def test_reducing_a_scalar_over_axis_0_or_minus_1_gives_the_scalar(op):
    # Decided: as PyTorch (numpy raises). A 0-d array has nothing to reduce over axis 0 or -1.
    x = ag.tensor(3.0, requires_grad=True)
    for axis in (0, -1):
        out = getattr(x, op)(axis=axis)
        expected = 0.0 if op in ("var", "std") else 3.0
        assert out.shape == () and out.item() == expected
        assert getattr(x, op)(axis=axis, keepdims=True).shape == ()
    with pytest.raises(ValueError, match=rf"{op}: axis 1 is out of bounds for an array of dimension 0"):
        getattr(x, op)(axis=1)


def test_summing_a_scalar_over_axis_0_passes_its_gradient():
    x = ag.tensor(3.0, requires_grad=True)
    (x.sum(axis=0) * 2).backward()
    assert x.grad.item() == 2.0
