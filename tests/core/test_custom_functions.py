"""A user's own Function: its mistakes are named, its ctx is its own, and its second
derivative is right by construction."""

from __future__ import annotations

import numpy as np
import pytest

import autograd_nn as ag
from autograd_nn.testing import gradcheck, gradgradcheck


def _op(backward, forward=lambda ctx, x: x * 2.0):
    return type("Custom", (ag.Function,), {"forward": staticmethod(forward), "backward": staticmethod(backward)})


@pytest.mark.parametrize(
    "returned, kind",
    [(lambda g: [g], "list"), (lambda g: 2.0, "float"), (lambda g: "δ", "str"), (lambda g: {"x": g}, "dict")],
    ids=["list", "float", "str", "dict"],
)
def test_a_backward_that_returns_no_array_is_named_with_its_input(returned, kind):
    Custom = _op(lambda ctx, grad: returned(grad))
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(TypeError, match=rf"Custom.backward returned a {kind} as the gradient of input 0"):
        Custom.apply(x).sum().backward()
    assert x.grad is None


def test_a_backward_that_returns_no_array_for_its_second_input_names_that_input():
    Two = _op(lambda ctx, grad: (grad, [1.0, 1.0]), forward=lambda ctx, x, y: x + y)
    x, y = ag.tensor([1.0, 2.0], requires_grad=True), ag.tensor([3.0, 4.0], requires_grad=True)
    with pytest.raises(TypeError, match=r"Custom.backward returned a list as the gradient of input 1"):
        Two.apply(x, y).sum().backward()
    assert x.grad is None and y.grad is None


def test_a_wrong_number_of_gradients_is_named():
    Two = _op(lambda ctx, grad: (grad, grad, grad), forward=lambda ctx, x, y: x + y)
    x = ag.tensor(1.0, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"Custom.backward returned 3 gradient\(s\) for 2 input\(s\)"):
        Two.apply(x, x).backward()


def test_a_gradient_that_cannot_be_summed_back_names_the_input():
    Two = _op(lambda ctx, grad: (grad, np.ones(7)), forward=lambda ctx, x, y: x + y)
    x, y = ag.tensor(np.ones(3), requires_grad=True), ag.tensor(np.ones(3), requires_grad=True)
    with pytest.raises(ValueError, match=r"Custom.backward: returned a gradient of shape \(7,\) for input 1 of shape \(3,\)"):
        Two.apply(x, y).sum().backward()
    # a gradient of the output's broadcast shape is summed back, as for the built-in ops
    Wide = _op(lambda ctx, grad: (grad, grad), forward=lambda ctx, x, b: x + b)
    b = ag.tensor(np.zeros(3), requires_grad=True)
    Wide.apply(ag.tensor(np.ones((4, 3))), b).sum().backward()
    np.testing.assert_array_equal(b.grad.data, [4.0, 4.0, 4.0])


def test_integer_or_boolean_outputs_do_not_require_grad():
    Count = _op(lambda ctx, grad: grad, forward=lambda ctx, x: (x > 0).sum())
    Mask = _op(lambda ctx, grad: grad, forward=lambda ctx, x: x > 1)
    x = ag.tensor([0.5, 1.5, -2.0], requires_grad=True)
    count, mask = Count.apply(x), Mask.apply(x)
    assert count.item() == 2 and not count.requires_grad and count.grad_fn is None
    assert mask.dtype == np.bool_ and not mask.requires_grad


def test_any_attribute_name_on_ctx_is_the_ops_own():
    """Names the engine uses for its own bookkeeping cannot corrupt the graph."""

    class Square(ag.Function):
        @staticmethod
        def forward(ctx, x):
            names = ("parents", "seq", "shape", "dtype", "fn", "ctx", "ids", "hooks", "params", "trace", "name", "saved")
            for name in names:
                setattr(ctx, name, "junk")
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            assert ctx.parents == "junk" and ctx.saved == "junk" and ctx.needs_input_grad == (True,)
            return grad * 2 * x

    x = ag.tensor([3.0, -1.0], requires_grad=True)
    y = Square.apply(x)
    assert y.grad_fn.parents == (x,) and y.grad_fn.shape == (2,) and y.grad_fn.name == "Square"
    (g,) = ag.grad(y.sum(), x, create_graph=True)
    (h,) = ag.grad(g.sum(), x)
    np.testing.assert_array_equal(g.data, 2 * x.data)
    np.testing.assert_array_equal(h.data, [2.0, 2.0])


def test_saved_sources_say_which_input_or_output_each_saved_value_is():
    class SavesEverything(ag.Function):
        @staticmethod
        def forward(ctx, x, y):
            z = x * y
            ctx.save_for_backward(y, z, np.ones(2), x)
            return z

        @staticmethod
        def backward(ctx, grad):
            return grad, grad

    x = ag.tensor([1.0, 2.0], requires_grad=True)
    z = SavesEverything.apply(x, np.array([3.0, 4.0]))
    assert z.grad_fn.saved_sources == (1, -1, None, 0)


def test_one_array_in_two_roles_keeps_the_second_derivative_right():
    """y = x · stop(x): dy/dx = stop(x), a constant, so the gradient does not depend on x.
    Both inputs are one array object; each slot still gets its own, so the saved constant
    is not mistaken for x (which would make d²y/dx² = 1)."""

    class Times(ag.Function):
        @staticmethod
        def forward(ctx, a, b):
            ctx.save_for_backward(a, b)
            return a * b

        @staticmethod
        def backward(ctx, grad):
            a, b = ctx.saved_tensors
            return grad * b, grad * a

    x = ag.tensor([2.0, -3.0], requires_grad=True)
    y = Times.apply(x, x.detach())
    assert y.grad_fn.saved_sources == (0, 1)
    (g,) = ag.grad(y.sum(), x, create_graph=True)
    np.testing.assert_array_equal(g.data, x.data)
    assert not g.requires_grad  # a constant: d²y/dx² = 0
    (g2,) = ag.grad(Times.apply(x, x).sum(), x, create_graph=True)  # y = x²: both roles are x
    (h,) = ag.grad(g2.sum(), x)
    np.testing.assert_array_equal(h.data, [2.0, 2.0])
    assert gradcheck(Times.apply, [x, ag.tensor([1.0, 4.0], requires_grad=True)])
    assert gradgradcheck(Times.apply, [x, ag.tensor([1.0, 4.0], requires_grad=True)])


def test_apply_with_no_tensor_input_returns_the_forward_array():
    class Double(ag.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

    out = Double.apply(np.array([1.0, 2.0]))
    assert type(out) is np.ndarray and out.tolist() == [2.0, 4.0]


def test_the_context_an_op_gets_and_what_the_node_keeps_of_it():
    seen = {}

    class Probe(ag.Function):
        @staticmethod
        def forward(ctx, x, y):
            assert isinstance(ctx, ag.Context) and ctx.needs_input_grad == (True, False)
            ctx.save_for_backward(x, y)
            return x * y

        @staticmethod
        def backward(ctx, grad):
            seen["xp"] = ctx.xp.exp(np.zeros(1))  # the numpy twins in a plain backward
            assert ctx.saved is ctx.saved_tensors and len(ctx.saved_tensors) == 2
            x, y = ctx.saved_tensors
            return grad * y, None

    x = ag.tensor([2.0], requires_grad=True)
    out = Probe.apply(x, np.array([5.0]))
    kept = out.grad_fn.saved_values
    assert kept[0] is x.data and kept[1].tolist() == [5.0]
    out.backward()
    assert out.grad_fn.saved_values is None and seen["xp"].tolist() == [1.0] and x.grad.item() == 5.0


@pytest.mark.parametrize("create_graph", [False, True], ids=["plain", "create_graph"])
def test_an_op_may_set_a_saved_of_its_own_and_an_unset_name_is_an_attribute_error(create_graph):
    class Own(ag.Function):  # z = x³, keeping 3x² as its own ctx.saved
        @staticmethod
        def forward(ctx, x):
            with pytest.raises(AttributeError, match="'Context' object has no attribute 'axis'"):
                _ = ctx.axis
            ctx.save_for_backward(x)
            ctx.saved = 3 * x * x  # its own name, not saved_tensors
            return x * x * x

        @staticmethod
        def backward(ctx, grad):
            return grad * ctx.saved

    x = ag.tensor([2.0, -1.0], requires_grad=True)
    (g,) = ag.grad(Own.apply(x).sum(), [x], create_graph=create_graph)
    assert np.asarray(g.data).tolist() == [12.0, 3.0]  # 3x²
