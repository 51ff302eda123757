"""Tensor hooks as in PyTorch: on leaves and intermediates, removable through a handle,
and a hook that changes the gradient's shape or dtype is an error naming it."""

from __future__ import annotations

import numpy as np
import pytest

import autograd_nn as ag


def test_a_hook_on_a_leaf_sees_its_whole_gradient_and_can_replace_it():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    seen = []
    x.register_hook(lambda g: seen.append(g.copy()))
    handle = x.register_hook(lambda g: g * 10)
    (x * 3 + x * x).sum().backward()  # two uses: the hook sees their sum once
    np.testing.assert_array_equal(seen[0], 3 + 2 * x.data)
    np.testing.assert_array_equal(x.grad.data, 10 * (3 + 2 * x.data))
    handle.remove()
    handle.remove()  # a second remove does nothing
    x.grad = None
    (x * 3).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [3.0, 3.0])
    assert len(seen) == 2


def test_a_hook_on_an_intermediate_changes_what_flows_on():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2
    with h.register_hook(lambda g: g * 0.5):  # a handle is also a context manager
        (h * 3).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [3.0, 3.0])  # 3 · ½ · 2
    x.grad = None
    h2 = x * 2
    (h2 * 3).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [6.0, 6.0])


def test_hooks_run_in_registration_order_and_in_grad_too():
    x = ag.tensor([1.0], requires_grad=True)
    order = []
    x.register_hook(lambda g: order.append("first"))
    x.register_hook(lambda g: (order.append("second"), g + 1)[1])
    (g,) = ag.grad(x * 5, x)
    assert order == ["first", "second"] and g.item() == 6.0 and x.grad is None


@pytest.mark.parametrize("leaf", [True, False], ids=["leaf", "intermediate"])
def test_a_hook_that_returns_another_shape_or_dtype_is_named(leaf):
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    target = x if leaf else x * 1.0

    def widen(g):
        return np.ones(3)

    target.register_hook(widen)
    with pytest.raises(RuntimeError, match=r"hook .*widen .*returned a gradient of shape \(3,\) .*expected shape \(2,\)"):
        (target * 2).sum().backward()
    assert x.grad is None

    y = ag.tensor([1.0, 2.0], requires_grad=True)
    y.register_hook(lambda g: g.astype(np.float32))
    with pytest.raises(RuntimeError, match=r"dtype float32; expected shape \(2,\) and dtype float64"):
        (y * 2).sum().backward()


def test_register_hook_on_a_tensor_that_needs_no_gradient_is_an_error():
    with pytest.raises(RuntimeError, match="does not require grad"):
        ag.tensor([1.0]).register_hook(lambda g: g)
    with pytest.raises(TypeError, match="must be callable"):
        ag.tensor([1.0], requires_grad=True).register_hook(3)


def test_retain_grad_still_works_beside_user_hooks():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2
    h.retain_grad()
    h.register_hook(lambda g: g * 2)
    assert h.retains_grad
    (h * 3).sum().backward()
    np.testing.assert_array_equal(h.grad.data, [6.0, 6.0])  # retained after the doubling hook (PyTorch ≥ 2.0)
    np.testing.assert_array_equal(x.grad.data, [12.0, 12.0])


def test_node_hooks_return_a_removable_handle():
    x = ag.tensor([2.0], requires_grad=True)
    y = x * 3
    seen = []
    handle = y.grad_fn.register_hook(lambda g: seen.append(g.item()))
    assert isinstance(handle, ag.RemovableHandle)
    y.backward(retain_graph=True)
    handle.remove()
    y.backward()
    assert seen == [1.0] and x.grad.item() == 6.0


def test_a_handle_used_as_a_context_manager_removes_its_hook_on_exit():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    seen = []
    with x.register_hook(lambda g: seen.append(g.copy())):
        (x * 3).sum().backward()
    (x * 5).sum().backward()
    assert len(seen) == 1
    np.testing.assert_array_equal(seen[0], [3.0, 3.0])
    np.testing.assert_array_equal(x.grad.data, [8.0, 8.0])


def test_retain_grad_keeps_the_gradient_after_the_tensors_own_hooks_whatever_the_order():
    """PyTorch: .grad of a tensor that retains it is δ as its hooks leave it, even a hook
    registered after retain_grad(). L = Σ y², y = 2x: δy = 2y, scaled ×10 by the hook."""
    x = ag.tensor(np.array([1.0, -2.0, 3.0]), requires_grad=True)
    y = x * 2
    y.retain_grad()
    y.register_hook(lambda g: g * 10)
    (y**2).sum().backward()
    assert np.array_equal(y.grad.numpy(), [40.0, -80.0, 120.0])
    assert np.array_equal(x.grad.numpy(), [80.0, -160.0, 240.0])


def test_retain_grad_follows_the_tensor_through_an_in_place_op():
    """y.retain_grad(), then y.mul_(3): y's .grad is δ of its current value, 2y = 12x (PyTorch),
    not δ of the value before the op (36x); a register_hook made before keeps the old value's."""
    x = ag.tensor(np.array([1.0, -2.0, 3.0]), requires_grad=True)
    y = x * 2
    y.retain_grad()
    seen = []
    y.register_hook(seen.append)
    y.mul_(3)
    (y**2).sum().backward()
    assert np.array_equal(y.grad.numpy(), [12.0, -24.0, 36.0])
    assert np.array_equal(np.asarray(seen[0]), [36.0, -72.0, 108.0])  # δ of the old value 2x: 3 · 2 · 6x
