"""The performance paths keep the semantics: the fused Linear and MseLoss ops, slotted nodes, lazy saved sources,
the seq-ordered sweep. References are finite differences in float64, closed forms, or
the unfused composition of primitives."""

from __future__ import annotations

import numpy as np
import pytest

import autograd_nn as ag
from autograd_nn import functional as F
from autograd_nn.ops import Add, Matmul, MseLoss, SoftmaxCrossEntropy, Transpose
from autograd_nn.testing import gradcheck, gradgradcheck


# --------------------------------------------------------------------------- Linear
@pytest.mark.parametrize(
    "x_shape, bias",
    [((5, 3), True), ((5, 3), False), ((3,), True), ((2, 4, 3), True), ((1, 3), True)],
)
def test_linear_matches_finite_differences_first_and_second_order(x_shape, bias, rng):
    x = ag.tensor(rng.standard_normal(x_shape), requires_grad=True)
    W = ag.tensor(rng.standard_normal((2, 3)), requires_grad=True)
    inputs = [x, W] + ([ag.tensor(rng.standard_normal(2), requires_grad=True)] if bias else [])
    gradcheck(F.linear, inputs)
    gradgradcheck(F.linear, inputs)


def test_linear_equals_the_unfused_composition(rng):
    """x Wᵀ + b through one Linear node gives the values and gradients of matmul/transpose/add."""
    arrays = [rng.standard_normal((6, 4)), rng.standard_normal((3, 4)), rng.standard_normal(3)]
    fused = [ag.tensor(a, requires_grad=True) for a in arrays]
    plain = [ag.tensor(a, requires_grad=True) for a in arrays]
    z_fused = F.linear(*fused)
    z_plain = Add.apply(Matmul.apply(plain[0], Transpose.apply(plain[1])), plain[2])
    assert z_fused.grad_fn.name == "Linear" and z_fused.grad_fn.parents == tuple(fused)
    np.testing.assert_allclose(z_fused.data, z_plain.data, rtol=1e-12)
    seed = rng.standard_normal(z_plain.shape)
    z_fused.backward(seed)
    z_plain.backward(seed)
    for a, b in zip(fused, plain):
        np.testing.assert_allclose(a.grad.data, b.grad.data, rtol=1e-12)
        assert a.grad.data.flags.c_contiguous and a.grad.shape == a.shape


@pytest.mark.parametrize(
    "x_shape, y_shape",
    [((5, 1), (1, 4)), ((2, 5, 1), (1, 4)), ((5, 1), (3, 1, 4)), ((1, 1), (1, 1))],
)
def test_an_outer_product_matmul_is_the_matmul_with_its_gradients(x_shape, y_shape, rng):
    """Inner dimension 1 goes through a broadcast multiply: values as numpy's matmul, gradients as
    finite differences, first and second order."""
    x = ag.tensor(rng.standard_normal(x_shape), requires_grad=True)
    y = ag.tensor(rng.standard_normal(y_shape), requires_grad=True)
    z = x @ y
    expected = np.matmul(x.data, y.data)
    assert z.shape == expected.shape
    np.testing.assert_allclose(z.data, expected, rtol=1e-15, atol=0)
    gradcheck(lambda a, b: a @ b, [x, y])
    gradgradcheck(lambda a, b: a @ b, [x, y])


@pytest.mark.parametrize("x_shape, y_shape", [((3, 1), (3, 4)), ((2, 3, 1), (2, 3, 5)), ((3, 1), (2, 4))])
def test_an_outer_product_of_misfit_shapes_is_refused_as_matmul_refuses_it(x_shape, y_shape):
    """(3, 1) @ (3, 4) is not an outer product, though (3, 1) * (3, 4) broadcasts: numpy's error, named."""
    with pytest.raises(ValueError, match=r"^matmul: "):
        ag.ones(x_shape) @ ag.ones(y_shape)


def test_linear_with_one_output_unit_backpropagates_the_outer_product(rng):
    """δx = δz W for W of shape (1, in), the B2 network's last layer: the hand-derived outer product."""
    x = ag.tensor(rng.standard_normal((6, 4)), requires_grad=True)
    W = ag.tensor(rng.standard_normal((1, 4)), requires_grad=True)
    b = ag.tensor(rng.standard_normal(1), requires_grad=True)
    delta = rng.standard_normal((6, 1))
    F.linear(x, W, b).backward(delta)
    np.testing.assert_allclose(x.grad.data, delta * W.data, rtol=1e-15)  # δx_ij = δ_i W_j
    np.testing.assert_allclose(W.grad.data, delta.T @ x.data, rtol=1e-12)
    gradcheck(F.linear, [x, W, b])


def test_linear_keeps_float32_and_bias_shapes_broadcast(rng):
    x = ag.tensor(rng.standard_normal((4, 3)), dtype=np.float32)
    W = ag.tensor(rng.standard_normal((2, 3)), requires_grad=True, dtype=np.float32)
    for b in (ag.tensor(np.ones(2), dtype=np.float32, requires_grad=True), 0.5):
        z = F.linear(x, W, b)
        assert z.dtype == np.float32
        z.sum().backward()
    # a (1, out) bias broadcasts like x @ W.T + b and gets its gradient summed back
    b = ag.tensor(np.ones((1, 2)), requires_grad=True, dtype=np.float32)
    F.linear(x, W, b).sum().backward()
    np.testing.assert_array_equal(b.grad.data, [[4.0, 4.0]])
    # a float64 bias promotes, as numpy would
    assert F.linear(x, W, np.ones(2)).dtype == np.float64


def test_linear_does_not_write_into_its_inputs(rng):
    x, W, b = rng.standard_normal((4, 3)), rng.standard_normal((2, 3)), rng.standard_normal(2)
    copies = [a.copy() for a in (x, W, b)]
    F.linear(ag.tensor(x), ag.Tensor(W), ag.Tensor(b))
    for a, c in zip((x, W, b), copies):
        np.testing.assert_array_equal(a, c)


def test_linear_shape_error_names_the_op_and_shapes():
    with pytest.raises(ValueError, match=r"linear: input of shape \(4, 3\) does not fit weight of shape \(2, 5\)"):
        F.linear(np.ones((4, 3)), ag.tensor(np.ones((2, 5)), requires_grad=True))


def test_linear_under_no_grad_records_nothing(rng):
    W = ag.tensor(rng.standard_normal((2, 3)), requires_grad=True)
    with ag.no_grad():
        z = F.linear(np.ones((4, 3)), W)
    assert z.grad_fn is None and not z.requires_grad
    np.testing.assert_allclose(z.data, np.ones((4, 3)) @ W.data.T)


# -------------------------------------------------------------------------- MseLoss
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_mse_loss_matches_finite_differences_in_both_arguments(reduction, rng):
    x = ag.tensor(rng.standard_normal((4, 2)), requires_grad=True)
    y = ag.tensor(rng.standard_normal((4, 2)), requires_grad=True)
    gradcheck(lambda a, b: F.mse_loss(a, b, reduction=reduction), [x, y])
    gradgradcheck(lambda a, b: F.mse_loss(a, b, reduction=reduction), [x, y])


def test_mse_loss_is_one_node_with_the_hand_derived_delta(rng):
    """δŷ = 2(ŷ − y)/n: the post's output error, up to its 1/2 convention."""
    y_hat = ag.tensor(rng.standard_normal((8, 1)), requires_grad=True, dtype=np.float32)
    y = rng.standard_normal((8, 1)).astype(np.float32)
    loss = F.mse_loss(y_hat, y)
    assert loss.grad_fn.fn is MseLoss and loss.dtype == np.float32
    np.testing.assert_allclose(loss.item(), np.mean((y_hat.data - y) ** 2), rtol=1e-6)
    loss.backward()
    np.testing.assert_allclose(y_hat.grad.data, 2 * (y_hat.data - y) / 8, rtol=1e-6)


# ------------------------------------------------------------- SoftmaxCrossEntropy
@pytest.mark.parametrize("axis", [1, -1, -2])
def test_softmax_cross_entropy_per_sample_backpropagates_along_a_negative_class_axis(axis, rng):
    """The forward accepts any class axis, as a reduction does; with reduction='none' the
    backward must put δℓ back on the same axis (it reshaped to a wrong shape for axis < 0)."""
    z = ag.tensor(rng.standard_normal((2, 3, 4)), requires_grad=True)
    y = ag.tensor(rng.uniform(0.1, 1.0, (2, 3, 4)), requires_grad=True)
    per_sample = lambda a, b: SoftmaxCrossEntropy.apply(a, b, axis=axis, reduction="none")  # noqa: E731
    shifted = z.data - z.data.max(axis=axis, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))
    np.testing.assert_allclose(per_sample(z, y).data, -(log_p * y.data).sum(axis=axis), rtol=1e-12)
    gradcheck(per_sample, [z, y])  # float64 finite differences against the declared δ


def test_mse_loss_does_not_modify_its_inputs(rng):
    x, y = rng.standard_normal(5), rng.standard_normal(5)
    copies = x.copy(), y.copy()
    F.mse_loss(ag.Tensor(x), ag.Tensor(y))
    np.testing.assert_array_equal(x, copies[0])
    np.testing.assert_array_equal(y, copies[1])


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
