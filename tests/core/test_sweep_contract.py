"""The reverse sweep's contract beyond the sums: what observers see and may not touch,
what a hook changes for ``grad``, the grad mode while backward runs, and what ``None``
from a derivative means. Expected values are hand-derived (PyTorch agrees on each rule;
the comments say what it does)."""

from __future__ import annotations

import numpy as np
import pytest

import autograd_nn as ag
from autograd_nn.engine import Observer, run_backward


class Recorder(Observer):
    """Keeps every δ an observer is shown, by node name."""

    def __init__(self, runs_hooks: bool):
        self.runs_hooks = runs_hooks
        self.deltas: dict[str, np.ndarray] = {}

    def node(self, node, grad):
        self.deltas[node.name] = np.array(grad)


def test_a_read_only_sweep_fires_no_hook_and_fills_no_grad():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3.0
    h.retain_grad()
    calls = []
    h.register_hook(lambda g: calls.append(g) or g * 10)
    y = (h * h).sum()
    watch = Recorder(runs_hooks=False)
    leaves = run_backward([y.grad_fn], [np.ones(())], retain_graph=True, create_graph=False, observer=watch)
    assert calls == [] and h.grad is None and x.grad is None
    np.testing.assert_allclose(leaves[id(x)][1], 18 * x.data)  # ∂Σ(3x)²/∂x = 18x, the hook not applied
    np.testing.assert_allclose(watch.deltas["Mul"], 2 * h.data)  # h's δ (x * 3 is the Mul seen last), no ×10
    y.backward()  # an ordinary backward afterwards: the hook and retain_grad run
    assert len(calls) == 1
    np.testing.assert_allclose(h.grad.data, 10 * 2 * h.data)  # retain_grad keeps δ after h's hook (PyTorch ≥ 2.0)
    np.testing.assert_allclose(x.grad.data, 10 * 18 * x.data)  # the hook's ×10 flows on


def test_grad_of_an_intermediate_sees_what_its_hook_returned():
    """PyTorch: torch.autograd.grad(y, h) is taken after h's hooks ran (here 3 · 2h)."""
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2.0
    h.register_hook(lambda g: g * 3.0)
    y = (h * h).sum()
    (dh,) = ag.grad(y, h, retain_graph=True)
    np.testing.assert_allclose(dh.data, 3 * 2 * h.data)
    (dx,) = ag.grad(y, x)
    np.testing.assert_allclose(dx.data, 3 * 2 * h.data * 2)


def test_backward_records_nothing_unless_create_graph():
    """PyTorch: torch.is_grad_enabled() is False inside a hook during a plain backward,
    True under create_graph; and the caller's mode is back afterwards."""
    seen = []
    for create_graph in (False, True):
        x = ag.tensor([1.0, 2.0], requires_grad=True)
        h = x * 2.0
        h.register_hook(lambda g, x=x: seen.append((ag.is_grad_enabled(), (g * x).requires_grad)))
        (h * h).sum().backward(create_graph=create_graph)
        assert ag.is_grad_enabled()
    assert seen == [(False, False), (True, True)]


def test_none_from_a_derivative_means_no_gradient_for_that_input():
    """PyTorch: a Function's backward may return None for an input that requires grad; that
    input then gets no gradient (its .grad stays None), and nothing fails."""

    class FirstOnly(ag.Function):
        @staticmethod
        def forward(ctx, a, b):
            return a * b

        @staticmethod
        def backward(ctx, grad):
            return grad, None

    a = ag.tensor([1.0, 2.0], requires_grad=True)
    b = ag.tensor([3.0, 4.0], requires_grad=True)
    FirstOnly.apply(a, b).sum().backward()
    np.testing.assert_array_equal(a.grad.data, [1.0, 1.0])
    assert b.grad is None
    with pytest.raises(RuntimeError, match="input 1 was not used"):
        ag.grad(FirstOnly.apply(a, b).sum(), [a, b])
