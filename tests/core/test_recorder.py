"""The recorder's bookkeeping, op by op: one array in two roles, memory shared by every
kind of view, and what outputs are made of. Expected values are hand-derived; PyTorch
behaves the same on each point (the docstrings say how)."""

from __future__ import annotations

import numpy as np
import pytest

import autograd_nn as ag
from autograd_nn import nn

SHARED = "shares its memory"


def test_x_times_detached_x_has_a_constant_gradient():
    """y = x · stop(x) through the operator (the two-input recorder): dy/dx = stop(x), so
    its gradient does not require grad (PyTorch: the same), while x · x gives d²/dx² = 2."""
    x = ag.tensor([2.0, -3.0], requires_grad=True)
    (g,) = ag.grad((x * x.detach()).sum(), x, create_graph=True)
    np.testing.assert_array_equal(g.data, x.data)
    assert not g.requires_grad
    (g2,) = ag.grad((x * x).sum(), x, create_graph=True)
    (h,) = ag.grad(g2.sum(), x)
    np.testing.assert_array_equal(h.data, [2.0, 2.0])


class Product3(ag.Function):
    """p = a · b · c;  δa = δp · b c,  δb = δp · a c,  δc = δp · a b"""

    @staticmethod
    def forward(ctx, a, b, c):
        ctx.save_for_backward(a, b, c)
        return a * b * c

    @staticmethod
    def backward(ctx, grad):
        a, b, c = ctx.saved_tensors
        need = ctx.needs_input_grad
        return (grad * b * c if need[0] else None), (grad * a * c if need[1] else None), (grad * a * b if need[2] else None)


def test_the_last_two_of_three_inputs_sharing_one_array_keep_their_roles():
    """p = x · y · stop(y): ∂p/∂y = x · stop(y), which depends on x (∂/∂x = y) but not on y."""
    x = ag.tensor([2.0, 5.0], requires_grad=True)
    y = ag.tensor([3.0, -1.0], requires_grad=True)
    p = Product3.apply(x, y, y.detach())
    assert p.grad_fn.saved_sources == (0, 1, 2)
    (dy,) = ag.grad(p.sum(), y, create_graph=True)
    np.testing.assert_array_equal(dy.data, x.data * y.data)
    dyx, dyy = ag.grad(dy.sum(), [x, y], allow_unused=True)
    np.testing.assert_array_equal(dyx.data, y.data)
    assert dyy is None


def test_linear_of_a_weight_and_its_detached_self_keeps_the_two_roles():
    """z = stop(W) Wᵀ + b through F.linear (the three-input recorder), C = Σ z: ∂C/∂W_jk =
    Σ_i W_ik, built from the constant slot only, so its gradient is a constant (PyTorch: the
    same); δb = 1 per element and z's two products are the same numbers."""
    W = ag.tensor([[1.0, 2.0], [-3.0, 0.5]], requires_grad=True)
    b = ag.tensor([0.25, -1.0], requires_grad=True)
    z = ag.functional.linear(W.detach(), W, b)
    assert z.grad_fn.saved_sources == (0, 1)
    np.testing.assert_array_equal(z.data, W.data @ W.data.T + b.data)
    gW, gb = ag.grad(z.sum(), [W, b], create_graph=True)
    np.testing.assert_array_equal(gW.data, np.tile(W.data.sum(axis=0), (2, 1)))
    np.testing.assert_array_equal(gb.data, [2.0, 2.0])
    assert not gW.requires_grad


def test_linear_passes_each_input_whether_it_needs_a_gradient():
    """F.linear(a, W, b) with a constant W: δa = δz W and δb = Σ_rows δz reach a and b; W,
    a constant, gets none (and its derivative is not computed: needs_input_grad is (T, F, T))."""
    a = ag.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], requires_grad=True)
    W = ag.tensor([[1.0, -1.0]])
    b = ag.tensor([0.5], requires_grad=True)
    z = ag.functional.linear(a, W, b)
    assert z.grad_fn.ctx.needs_input_grad == (True, False, True)
    z.backward(np.array([[1.0], [2.0], [3.0]]))
    np.testing.assert_array_equal(a.grad.data, [[1.0, -1.0], [2.0, -2.0], [3.0, -3.0]])
    np.testing.assert_array_equal(b.grad.data, [6.0])
    assert W.grad is None


def test_linear_without_bias_of_a_weight_and_its_detached_self_keeps_the_two_roles():
    """z = stop(W) Wᵀ through F.linear(a, W) (the two-input recorder), C = Σ z: ∂C/∂W_jk =
    Σ_i W_ik from the constant slot only, so the gradient is a constant."""
    W = ag.tensor([[1.0, 2.0], [-3.0, 0.5]], requires_grad=True)
    z = ag.functional.linear(W.detach(), W)
    assert z.grad_fn.saved_sources == (0, 1)
    np.testing.assert_array_equal(z.data, W.data @ W.data.T)
    (gW,) = ag.grad(z.sum(), [W], create_graph=True)
    np.testing.assert_array_equal(gW.data, np.tile(W.data.sum(axis=0), (2, 1)))
    assert not gW.requires_grad


def test_linear_without_bias_passes_each_input_whether_it_needs_a_gradient():
    """F.linear(a, W) with a constant W: δa = δz W reaches a; W gets none (needs_input_grad
    (T, F)), and with a constant a, δW = δzᵀ a reaches W alone (F, T)."""
    a = ag.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], requires_grad=True)
    W = ag.tensor([[1.0, -1.0]])
    z = ag.functional.linear(a, W)
    assert z.grad_fn.ctx.needs_input_grad == (True, False)
    z.backward(np.array([[1.0], [2.0], [3.0]]))
    np.testing.assert_array_equal(a.grad.data, [[1.0, -1.0], [2.0, -2.0], [3.0, -3.0]])
    assert W.grad is None
    V = ag.tensor([[1.0, -1.0]], requires_grad=True)
    z = ag.functional.linear(a.detach(), V)
    assert z.grad_fn.ctx.needs_input_grad == (False, True)
    z.backward(np.array([[1.0], [2.0], [3.0]]))
    np.testing.assert_array_equal(V.grad.data, [[22.0, 28.0]])  # 1·(1, 2) + 2·(3, 4) + 3·(5, 6)


class Identity(ag.Function):
    """A user's op that hands back its input array itself: its output shares the input's memory."""

    @staticmethod
    def forward(ctx, x):
        return x

    @staticmethod
    def backward(ctx, grad):
        return grad


def test_an_op_returning_its_input_unchanged_shares_its_memory():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    h = x * 1.0
    same = Identity.apply(h)
    assert same.data is h.data
    with pytest.raises(RuntimeError, match=SHARED):
        same.add_(x)
    with pytest.raises(RuntimeError, match=SHARED):
        h.add_(x)
    np.testing.assert_array_equal(h.data, [1.0, 2.0])


def test_a_view_taken_under_no_grad_still_counts_as_sharing():
    x = ag.tensor([1.0, 2.0, 3.0], requires_grad=True)
    h = x * 1.0
    with ag.no_grad():
        view = h.reshape(3, 1)  # a constant, but over h's memory
    with pytest.raises(RuntimeError, match=SHARED):
        h.add_(x)
    np.testing.assert_array_equal(view.data.ravel(), [1.0, 2.0, 3.0])


def test_ops_on_parameters_give_plain_tensors():
    """PyTorch: p * 2 is a Tensor, not a Parameter (it is no model's parameter)."""
    p = nn.Parameter(np.ones(3))
    for out in (p * 2.0, 2.0 * p, p.exp(), p.sum(), ag.exp(p), p[1:], p @ p):
        assert type(out) is ag.Tensor, type(out)
    assert isinstance(p, ag.Tensor) and type(p) is nn.Parameter
