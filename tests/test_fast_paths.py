"""The performance paths keep the semantics: slotted nodes, lazy saved sources,
the seq-ordered sweep. References are finite differences in float64, closed forms, or
the unfused composition of primitives."""

from __future__ import annotations

import numpy as np

import autograd_nn as ag


# ------------------------------------------------------------ nodes and the engine
def test_saved_sources_resolve_inputs_output_and_constants():
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


def test_scalar_output_saved_by_an_op_is_its_output():
    x = ag.tensor([1.0, 3.0, 2.0], requires_grad=True)
    top = x.max()  # Max saves its output, which numpy returns as a scalar
    assert top.grad_fn.saved_sources == (0, -1)
    (g,) = ag.grad(top * top, x, create_graph=True)
    (h,) = ag.grad(g.sum(), x)
    np.testing.assert_array_equal(h.data, [0.0, 2.0, 0.0])  # d²(max²)/dx² at the max


def test_ops_can_still_keep_their_own_attributes_on_ctx():
    class Scale(ag.Function):
        @staticmethod
        def forward(ctx, x, *, factor):
            ctx.factor = factor
            return x * factor

        @staticmethod
        def backward(ctx, grad):
            return grad * ctx.factor

    x = ag.tensor([1.0, 2.0], requires_grad=True)
    Scale.apply(x, factor=3.0).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [3.0, 3.0])


def test_sweep_waits_for_every_consumer_in_a_wide_diamond():
    """Consumers made in any order, one reached only through a long detour: each node
    still runs its derivative once, with every contribution summed."""
    calls = []

    class Counted(ag.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1.0

        @staticmethod
        def backward(ctx, grad):
            calls.append(grad.copy())
            return grad

    x = ag.tensor([1.0], requires_grad=True)
    h = Counted.apply(x)
    detour = h
    for _ in range(50):
        detour = detour * 1.0
    late = h * 2.0
    total = late + detour + h * 3.0
    total.backward()
    assert len(calls) == 1
    np.testing.assert_array_equal(calls[0], [6.0])
    np.testing.assert_array_equal(x.grad.data, [6.0])


def test_multiple_roots_sharing_a_node():
    x = ag.tensor([2.0], requires_grad=True)
    h = x * x
    a, b = h * 3.0, h + 1.0
    (ga,) = ag.grad([a, b, a], x)
    np.testing.assert_array_equal(ga.data, [2 * 2.0 * 3.0 + 2 * 2.0 + 2 * 2.0 * 3.0])
