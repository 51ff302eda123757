"""``backward(inputs=)`` and ``autograd.backward`` in PyTorch's form, against closed forms in
float64 (tests/core/test_backward_inputs_torch.py checks the same against torch itself).

The graph of most tests: h = x·w, L = Σ sin(h) · exp(w) + Σ x², so
∂L/∂h = cos(h)·exp(w), ∂L/∂x = cos(h)·exp(w)·w + 2x, ∂L/∂w = cos(h)·exp(w)·x + sin(h)·exp(w).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd_nn as ag
from autograd_nn import autograd

X, W = np.array([0.5, -1.0, 2.0]), np.array([1.5, 0.25, -0.75])
H = X * W
DH = np.cos(H) * np.exp(W)
DX = DH * W + 2 * X
DW = DH * X + np.sin(H) * np.exp(W)


def _graph():
    x, w = ag.tensor(X, requires_grad=True), ag.tensor(W, requires_grad=True)
    h = x * w
    return x, w, h, (h.sin() * w.exp()).sum() + (x * x).sum()


def test_only_the_given_leaves_accumulate_and_the_others_are_untouched():
    x, w, _, loss = _graph()
    before = ag.tensor([7.0, 7.0, 7.0])
    w.grad = before
    loss.backward(inputs=[x])
    np.testing.assert_allclose(x.grad.data, DX, rtol=1e-14)
    assert w.grad is before and before.tolist() == [7.0, 7.0, 7.0]


@pytest.mark.parametrize("form", ["tensor", "list", "tuple", "dict", "generator", "duplicates"])
def test_inputs_may_be_a_tensor_a_sequence_a_dict_or_a_generator_each_counted_once(form):
    x, w, _, loss = _graph()
    given = {"tensor": w, "list": [w], "tuple": (w,), "dict": {"weight": w}, "generator": (t for t in [w]),
             "duplicates": [w, w]}[form]  # fmt: skip
    loss.backward(inputs=given)
    np.testing.assert_allclose(w.grad.data, DW, rtol=1e-14)
    assert x.grad is None


def test_a_non_leaf_input_gets_its_grad_and_keeps_retaining_it():
    """PyTorch calls retain_grad() on a non-leaf input: a later plain backward adds to it."""
    x, w, h, loss = _graph()
    loss.backward(inputs=[h], retain_graph=True)
    np.testing.assert_allclose(h.grad.data, DH, rtol=1e-14)
    assert h.retains_grad and x.grad is None and w.grad is None
    loss.backward()
    np.testing.assert_allclose(h.grad.data, 2 * DH, rtol=1e-14)
    np.testing.assert_allclose(x.grad.data, DX, rtol=1e-14)


def test_a_non_leaf_input_and_a_leaf_below_it_both_accumulate():
    x, w, h, loss = _graph()
    loss.backward(inputs=[h, x])
    np.testing.assert_allclose(h.grad.data, DH, rtol=1e-14)
    np.testing.assert_allclose(x.grad.data, DX, rtol=1e-14)
    assert w.grad is None


def test_a_non_leaf_input_that_already_retains_its_grad_gets_it_once():
    x, w, h, loss = _graph()
    h.retain_grad()
    loss.backward(inputs=[h])
    np.testing.assert_allclose(h.grad.data, DH, rtol=1e-14)


def test_hooks_run_on_the_paths_to_the_inputs_only():
    """A non-leaf input's hooks run (its .grad is δ as they leave it); hooks and retain_grad
    below it, in branches that reach no input, and on leaves left out do not (PyTorch)."""
    x, w = ag.tensor(X, requires_grad=True), ag.tensor(W, requires_grad=True)
    calls = []
    x.register_hook(lambda g: calls.append("x"))
    w.register_hook(lambda g: calls.append("w"))
    below = x * 1.0
    below.register_hook(lambda g: calls.append("below"))
    h = below * 2.0
    h.register_hook(lambda g: g * 10)
    q = h * 3.0
    q.retain_grad()
    r = w.exp()
    r.retain_grad()
    r.register_hook(lambda g: calls.append("r"))
    (q * r).sum().backward(inputs=[h])
    np.testing.assert_allclose(h.grad.data, 30 * np.exp(W), rtol=1e-14)
    np.testing.assert_allclose(q.grad.data, np.exp(W), rtol=1e-14)
    assert r.grad is None and calls == [] and x.grad is None and w.grad is None
    (x * w).sum().backward(inputs=[x])
    assert calls == ["x"]


def test_an_input_the_outputs_do_not_reach_keeps_its_grad():
    x, w, _, loss = _graph()
    other = ag.tensor([1.0, 2.0], requires_grad=True)
    away = other * 2
    loss.backward(inputs=[x, other, away])
    np.testing.assert_allclose(x.grad.data, DX, rtol=1e-14)
    assert other.grad is None and away.grad is None and away.retains_grad


def test_the_output_itself_as_an_input_gets_its_seed():
    x, _, _, loss = _graph()
    loss.backward(inputs=[loss])
    assert loss.grad.item() == 1.0 and x.grad is None


def test_branches_that_reach_no_input_are_not_run_nor_freed():
    """The exp(w) branch leads to no input: its derivative is not called, and its saved
    arrays stay, so a later backward through it needs no retain_graph (PyTorch)."""
    calls = []

    class Counted(ag.Function):
        @staticmethod
        def forward(ctx, a):
            ctx.save_for_backward(a)
            return np.exp(a)

        @staticmethod
        def backward(ctx, grad):
            calls.append(1)
            return grad * np.exp(ctx.saved_tensors[0])

    x, w = ag.tensor(X, requires_grad=True), ag.tensor(W, requires_grad=True)
    branch = Counted.apply(w)
    (x.sin().sum() + branch.sum()).backward(inputs=[x])
    np.testing.assert_allclose(x.grad.data, np.cos(X), rtol=1e-14)
    assert calls == [] and w.grad is None
    branch.sum().backward()
    assert calls == [1]
    np.testing.assert_allclose(w.grad.data, np.exp(W), rtol=1e-14)


def test_a_non_leaf_inputs_own_derivative_runs_as_in_pytorch():
    """PyTorch runs the grad_fn of a non-leaf input: it checks its saved tensors and frees them."""
    a = ag.tensor(X, requires_grad=True)
    h = a.sin()
    loss = (h * 3).sum()
    with ag.no_grad():
        a.mul_(1.0)
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        loss.backward(inputs=[h])
    h = a.sin()
    (h * 3).sum().backward(inputs=[h])
    np.testing.assert_array_equal(h.grad.data, [3.0, 3.0, 3.0])
    with pytest.raises(ag.GraphFreedError):
        h.sum().backward()


def test_bad_inputs_are_refused_before_anything_runs():
    x, w, h, loss = _graph()
    with pytest.raises(RuntimeError, match="backward: inputs cannot be empty"):
        loss.backward(inputs=[], retain_graph=True)
    with pytest.raises(RuntimeError, match=r"backward: inputs\[2\] \(shape \(2,\)\) does not require grad"):
        loss.backward(inputs=[x, h, ag.tensor([1.0, 2.0])], retain_graph=True)
    with pytest.raises(TypeError, match=r"backward: inputs\[1\] is a float; expected a Tensor"):
        loss.backward(inputs=[x, 3.0], retain_graph=True)
    with pytest.raises(TypeError, match="backward: inputs must be a Tensor or a sequence of Tensors, got a float"):
        loss.backward(inputs=3.0, retain_graph=True)
    assert x.grad is None and w.grad is None and h.grad is None and not h.retains_grad
    loss.backward(inputs=[x])  # the graph was not touched
    np.testing.assert_allclose(x.grad.data, DX, rtol=1e-14)


def test_a_backward_that_fails_midway_changes_no_grad():
    """h's δ is complete before the sweep reaches the failing node below x; neither .grad moves."""

    class Fails(ag.Function):
        @staticmethod
        def forward(ctx, a):
            return a * 1.0

        @staticmethod
        def backward(ctx, grad):
            raise ArithmeticError("no derivative today")

    x, w = ag.tensor(X, requires_grad=True), ag.tensor(W, requires_grad=True)
    x.grad = ag.tensor([1.0, 1.0, 1.0])
    failing = Fails.apply(x).sum()
    h = w * 2  # made after the failing branch: the sweep reaches it first
    seen = []
    h.register_hook(seen.append)
    with pytest.raises(ArithmeticError):
        (h.sum() + failing).backward(inputs=[h, x])
    assert len(seen) == 1
    assert h.grad is None and x.grad.tolist() == [1.0, 1.0, 1.0] and h.retains_grad


def test_create_graph_with_inputs_gives_differentiable_gradients():
    """L = Σ x² w: ∂L/∂x = 2xw, and ∂(Σ ∂L/∂x)/∂w = 2x; a non-leaf input's δ is differentiable too."""
    x, w = ag.tensor(X, requires_grad=True), ag.tensor(W, requires_grad=True)
    (x * x * w).sum().backward(inputs=[x], create_graph=True)
    np.testing.assert_allclose(x.grad.data, 2 * X * W, rtol=1e-14)
    assert x.grad.requires_grad and w.grad is None
    first = x.grad
    x.grad = None
    first.sum().backward(inputs=[w])
    np.testing.assert_allclose(w.grad.data, 2 * X, rtol=1e-14)
    assert x.grad is None
    h = x * x
    (h * w).sum().backward(inputs=[h], create_graph=True)
    np.testing.assert_allclose(h.grad.data, W, rtol=1e-14)
    (dw,) = ag.grad(h.grad.sum(), w)
    np.testing.assert_array_equal(dw.data, [1.0, 1.0, 1.0])


def test_autograd_backward_takes_several_tensors_and_their_gradients():
    x, w = ag.tensor(X, requires_grad=True), ag.tensor(W, requires_grad=True)
    autograd.backward([x * w, (x * 2).sum()], [np.ones(3), None], inputs=[x])
    np.testing.assert_allclose(x.grad.data, W + 2, rtol=1e-14)
    assert w.grad is None
    autograd.backward(x * w, ag.tensor([1.0, 0.0, 2.0]))  # a lone tensor and its lone gradient
    np.testing.assert_allclose(x.grad.data, W + 2 + np.array([1.0, 0.0, 2.0]) * W, rtol=1e-14)
    np.testing.assert_allclose(w.grad.data, np.array([1.0, 0.0, 2.0]) * X, rtol=1e-14)
    autograd.backward([], inputs=[x])  # nothing to differentiate: nothing happens
    with pytest.raises(ValueError, match="backward: got 1 grad_tensors for 2 tensors"):
        autograd.backward([x * w, x * w], [np.ones(3)])
    with pytest.raises(RuntimeError, match="backward: element 1 of tensors does not require grad"):
        autograd.backward([(x * w).sum(), ag.tensor(1.0)])
    with pytest.raises(RuntimeError, match="backward: a gradient can be created implicitly only for a one-element"):
        autograd.backward(x * w)


@settings(deadline=None)
@given(st.sets(st.sampled_from(range(6)), min_size=1), st.booleans())
def test_any_choice_of_inputs_gets_what_grad_returns_and_nothing_else_moves(chosen, create_graph):
    """For every subset of {x, w, u, h, s, out}: each chosen tensor's .grad is grad()'s result
    for it (None where unreached), every other tensor's .grad stays None."""

    def build():
        x, w, u = (ag.tensor(v, requires_grad=True) for v in (X, W, np.ones(2)))
        h = x * w
        s = h.exp() + w
        return [x, w, u, h, s, (s * h).sum() + (x * x).sum()]

    reference = build()
    expected = ag.grad(reference[-1], [reference[i] for i in sorted(chosen)], allow_unused=True)
    tensors = build()
    tensors[-1].backward(inputs=[tensors[i] for i in sorted(chosen)], create_graph=create_graph)
    for i, tensor in enumerate(tensors):
        if i not in chosen:
            assert tensor.grad is None
    for i, want in zip(sorted(chosen), expected):
        got = tensors[i].grad
        assert (got is None) == (want is None)
        if want is not None:
            np.testing.assert_allclose(got.data, want.data, rtol=1e-14)
