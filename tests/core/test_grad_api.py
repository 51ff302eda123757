"""The front door's bookkeeping: ``gradient=`` is cast to the output's dtype, ``grad``
checks its arguments, and what it returns is the caller's alone."""

from __future__ import annotations

import numpy as np
import pytest

import autograd_nn as ag


@pytest.mark.parametrize("gradient", [[1, 2, 3], np.array([1.0, 2.0, 3.0]), ag.tensor([1, 2, 3])])
def test_a_gradient_of_another_dtype_is_cast_to_the_outputs(gradient):
    """A float32 leaf receives a float32 .grad, whether gradient= holds ints or float64s."""
    x = ag.tensor([0.5, 1.5, 2.5], dtype=np.float32, requires_grad=True)
    x.backward(gradient)
    assert x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad.data, [1.0, 2.0, 3.0])
    y = x * 2.0
    y.backward(gradient)
    assert x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad.data, [3.0, 6.0, 9.0])  # 1·g + 2·g


def test_grad_results_are_the_callers_own_arrays():
    """x + y hands one δ to both inputs; grad returns two arrays, neither the grad_outputs."""
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    y = ag.tensor([3.0, 4.0], requires_grad=True)
    g = np.array([5.0, 6.0])
    dx, dy = ag.grad(x + y, [x, y], grad_outputs=g)
    dx.data[0] = 100.0
    np.testing.assert_array_equal(dy.data, [5.0, 6.0])
    np.testing.assert_array_equal(g, [5.0, 6.0])


def test_grad_needs_one_grad_output_per_output():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    first, second = x * 2, x * 3
    with pytest.raises(ValueError, match="grad: got 1 grad_outputs for 2 outputs"):
        ag.grad([first, second], x, grad_outputs=[np.ones(2)])
    (dx,) = ag.grad([first, second], x, grad_outputs=[np.ones(2), np.ones(2)])
    np.testing.assert_array_equal(dx.data, [5.0, 5.0])


def test_a_leaf_given_twice_as_an_output_sums_both_seeds():
    """∂(x, x)/∂x weighted by (g₁, g₂) is g₁ + g₂, as in PyTorch: a leaf that is itself an
    output receives its seed, once per time it is given."""
    x = ag.tensor([1.0, -2.0], requires_grad=True)
    (dx,) = ag.grad([x, x], [x], grad_outputs=[np.array([1.0, 2.0]), np.array([10.0, 20.0])])
    np.testing.assert_array_equal(dx.data, [11.0, 22.0])
