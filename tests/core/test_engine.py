"""The reverse sweep: accumulation, diamonds, deep graphs, freeing, higher order, grad mode."""

from __future__ import annotations

import gc
import sys
import weakref

import numpy as np
import pytest

import autograd_nn as ag


def test_diamond_sums_contributions_once():
    a = ag.tensor(3.0, requires_grad=True)
    b = a + a
    c = b + b
    c.backward()
    assert a.grad.item() == 4.0


def test_square_by_self_product():
    x = ag.tensor([1.5, -2.0], requires_grad=True)
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [3.0, -4.0])


def test_reused_intermediate_runs_its_derivative_once():
    calls = []

    class Counted(ag.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            calls.append(1)
            return grad * 2

    x = ag.tensor([1.0, 2.0], requires_grad=True)
    h = Counted.apply(x)
    (h * h + h.exp() + h).sum().backward()
    assert len(calls) == 1
    h_val = 2 * x.data
    np.testing.assert_allclose(x.grad.data, 2 * (2 * h_val + np.exp(h_val) + 1))


def test_constant_operand_gets_no_grad():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    c = ag.tensor([3.0, 4.0])
    (x * c).sum().backward()
    assert c.grad is None and not c.requires_grad
    np.testing.assert_array_equal(x.grad.data, [3.0, 4.0])


def test_gradients_accumulate_across_backward_calls():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    (x * 3).sum().backward()
    first = x.grad
    (x * x).sum().backward()
    assert x.grad is first  # accumulated in the same Tensor, as in PyTorch
    np.testing.assert_array_equal(x.grad.data, [3 + 2, 3 + 4])


def test_intermediates_keep_no_grad_unless_retained():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2
    k = x * 3
    k.retain_grad()
    (h * k).sum().backward()
    assert h.grad is None
    np.testing.assert_array_equal(k.grad.data, h.data)
    assert k.retains_grad and not h.retains_grad


def test_leaf_grads_do_not_alias_each_other_or_the_seed():
    a = ag.tensor([1.0, 2.0], requires_grad=True)
    b = ag.tensor([3.0, 4.0], requires_grad=True)
    seed = np.array([1.0, 1.0])
    (a + b).backward(seed)
    a.grad.data *= 10
    np.testing.assert_array_equal(b.grad.data, [1.0, 1.0])
    np.testing.assert_array_equal(seed, [1.0, 1.0])


def test_broadcast_gradient_is_writable_copy():
    x = ag.tensor(np.ones((2, 3)), requires_grad=True)
    x.sum().backward()
    x.grad.data += 1  # a read-only broadcast view would raise here
    np.testing.assert_array_equal(x.grad.data, 2 * np.ones((2, 3)))


def test_million_op_chain_backpropagates_without_recursion():
    assert sys.getrecursionlimit() < 10**5
    x = ag.tensor(np.array([1.0]), requires_grad=True)
    y = x
    for _ in range(10**6):
        y = y + 1e-6
    y.backward(np.ones(1))
    assert x.grad.item() == 1.0
    np.testing.assert_allclose(y.item(), 2.0)
    del y
    gc.collect()


def test_deep_chain_is_freed_without_recursion():
    x = ag.tensor([1.0], requires_grad=True)
    y = x
    kept = []  # weak references to arrays the graph holds (y · y saves both operands)
    for step in range(200_000):
        y = y * y  # 1 · 1 stays 1
        if step in (10, 100_000, 199_998):
            kept.append(weakref.ref(y.data))
    assert all(ref() is not None for ref in kept)  # alive while the graph is
    del y  # dropping a deep graph must not hit the recursion limit ...
    gc.collect()
    assert all(ref() is None for ref in kept)  # ... and must release what it saved
    assert x.grad is None and x.data.tolist() == [1.0]


def test_second_backward_through_freed_graph_raises():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    y = (x.exp() * 2).sum()
    y.backward()
    with pytest.raises(ag.GraphFreedError, match="retain_graph=True"):
        y.backward()


def test_retain_graph_allows_second_backward():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    y = (x.exp() * 2).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad.data, 4 * np.exp(x.data))


def test_freed_graph_error_changes_nothing():
    x = ag.tensor([1.0], requires_grad=True)
    shared = x.exp()
    shared.sum().backward()
    before = x.grad.data.copy()
    with pytest.raises(ag.GraphFreedError):
        (shared * 2).sum().backward()
    np.testing.assert_array_equal(x.grad.data, before)


def test_backward_on_non_scalar_needs_gradient():
    x = ag.tensor(np.ones((3, 4)), requires_grad=True)
    y = x * 2
    with pytest.raises(RuntimeError, match=r"one-element output.*\(3, 4\)"):
        y.backward()
    with pytest.raises(ValueError, match=r"gradient has shape \(4,\) but the output has shape \(3, 4\)"):
        y.backward(np.ones(4))
    y.backward(np.full((3, 4), 0.5))
    np.testing.assert_array_equal(x.grad.data, np.ones((3, 4)))


def test_backward_on_tensor_without_grad_raises():
    with pytest.raises(RuntimeError, match="does not require grad"):
        ag.tensor(1.0).backward()


def test_no_grad_records_nothing_and_works_as_decorator():
    x = ag.tensor([1.0], requires_grad=True)
    with ag.no_grad():
        y = x * 2
        with ag.enable_grad():
            z = x * 2
    assert y.grad_fn is None and not y.requires_grad
    assert z.grad_fn is not None

    @ag.no_grad()
    def f(t):
        return t * 3

    assert f(x).grad_fn is None
    assert ag.is_grad_enabled()


def test_grad_mode_is_restored_when_contexts_nest():
    x = ag.tensor([1.0], requires_grad=True)
    with ag.no_grad():
        with ag.enable_grad():
            assert ag.is_grad_enabled()
        assert not ag.is_grad_enabled()  # back to the outer no_grad, not to "on"
        assert (x * 2).grad_fn is None
        with ag.no_grad():
            pass
        assert (x * 2).grad_fn is None
    assert ag.is_grad_enabled() and (x * 2).grad_fn is not None


def test_a_hook_that_returns_a_gradient_replaces_it_for_the_rest_of_the_sweep():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    seen = []
    y.register_hook(lambda g: g * 10)  # as PyTorch: the returned value replaces δy
    y.register_hook(lambda g: seen.append(g.copy()))  # returns None: observes, changes nothing
    (y * y).sum().backward()
    np.testing.assert_array_equal(seen[0], 10 * 2 * y.data)  # later hooks see the replaced δ
    np.testing.assert_array_equal(x.grad.data, 3 * 10 * 2 * y.data)  # δx = 3 · 10 · 2y


def test_detach_cuts_the_graph_and_shares_data():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    d = (x * 2).detach()
    assert d.is_leaf and not d.requires_grad
    y = (x * d).sum()
    y.backward()
    np.testing.assert_array_equal(x.grad.data, d.data)


def test_grad_function_leaves_dot_grad_untouched():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    (g,) = ag.grad((x**2).sum(), x)
    np.testing.assert_array_equal(g.data, [2.0, 4.0])
    assert x.grad is None


def test_grad_with_respect_to_intermediate():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    y = (h * h).sum()
    gh, gx = ag.grad(y, [h, x])
    np.testing.assert_allclose(gh.data, 2 * h.data)
    np.testing.assert_allclose(gx.data, 18 * x.data)


def test_grad_unused_input():
    x = ag.tensor(1.0, requires_grad=True)
    u = ag.tensor(1.0, requires_grad=True)
    with pytest.raises(RuntimeError, match="not used"):
        ag.grad(x * 2, [x, u])
    assert ag.grad(x * 2, [x, u], allow_unused=True)[1] is None


def test_second_derivatives_match_closed_forms():
    x = ag.tensor(np.array([0.3, -1.2, 2.0]), requires_grad=True)
    # d²/dx² sin-free closed forms: exp, sigmoid, tanh, log
    cases = {
        "exp": (lambda t: t.exp(), lambda v: np.exp(v)),
        "sigmoid": (lambda t: t.sigmoid(), lambda v: _s(v) * (1 - _s(v)) * (1 - 2 * _s(v))),
        "tanh": (lambda t: t.tanh(), lambda v: -2 * np.tanh(v) * (1 - np.tanh(v) ** 2)),
        "cube": (lambda t: t**3, lambda v: 6 * v),
    }
    for name, (f, d2) in cases.items():
        (g,) = ag.grad(f(x).sum(), x, create_graph=True)
        (h,) = ag.grad(g.sum(), x)
        np.testing.assert_allclose(h.data, d2(x.data), rtol=1e-10, err_msg=name)


def _s(v):
    return 1 / (1 + np.exp(-v))


def test_backward_create_graph_gives_differentiable_grad():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    y = (x**3).sum()
    y.backward(create_graph=True)
    g = x.grad
    assert g.grad_fn is not None
    x.grad = None
    (g * g).sum().backward()  # d/dx Σ (3x²)² = 36 x³
    np.testing.assert_allclose(x.grad.data, 36 * x.data**3)


def test_hessian_vector_product():
    rng = np.random.default_rng(0)
    A = rng.standard_normal((4, 4))
    A = A + A.T
    x = ag.tensor(rng.standard_normal(4), requires_grad=True)
    v = rng.standard_normal(4)
    f = 0.5 * (x @ (A @ x)) + (x**4).sum()
    (g,) = ag.grad(f, x, create_graph=True)
    (hv,) = ag.grad(g, x, grad_outputs=v)
    hessian = A + np.diag(12 * x.data**2)
    np.testing.assert_allclose(hv.data, hessian @ v, rtol=1e-10)


def test_node_names_and_edges():
    x = ag.tensor([1.0], requires_grad=True)
    y = (x * 2).exp()
    assert y.grad_fn.name == "Exp"
    (parent,) = y.grad_fn.next_functions
    assert parent.name == "Mul"
    assert parent.next_functions == (x, None)
    assert repr(y.grad_fn) == "<Exp backward>"


def test_custom_function_with_wrong_gradient_count_is_named():
    class Bad(ag.Function):
        @staticmethod
        def forward(ctx, x, y):
            return x + y

        @staticmethod
        def backward(ctx, grad):
            return (grad,)

    x = ag.tensor(1.0, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"Bad.backward returned 1 gradient\(s\) for 2 input\(s\)"):
        Bad.apply(x, x).backward()


def test_custom_function_gradient_of_wrong_shape_is_named():
    class Bad(ag.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1

        @staticmethod
        def backward(ctx, grad):
            return np.ones(5)

    x = ag.tensor(np.ones(3), requires_grad=True)
    with pytest.raises(
        ValueError, match=r"Bad.backward: returned a gradient of shape \(5,\) for input 0 of shape \(3,\)"
    ):
        Bad.apply(x).sum().backward()


def test_engine_reports_the_broadcast_sums_it_performs():
    from autograd_nn.engine import Observer, run_backward

    class Sums(Observer):
        def __init__(self):
            self.seen = []

        def reduced(self, node, index, shape):
            self.seen.append((node, index, shape))

    x = ag.tensor(np.ones((3, 4)), requires_grad=True)
    b = ag.tensor(np.ones(4), requires_grad=True)
    y = (x + b).sum()
    sums = Sums()
    run_backward([y.grad_fn], [np.ones(())], retain_graph=False, create_graph=False, observer=sums)
    add = y.grad_fn.parents[0]
    assert sums.seen == [(add, 1, (3, 4))]
