"""Semantics of each operation: forward against numpy, gradients against finite
differences (float64) or closed forms, across broadcasting, axes and 0-d/1-d edge cases."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import autograd_nn as ag
import autograd_nn.functional as F
from autograd_nn.testing import gradcheck

small_shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4)


def _leaf(rng, shape, low=-2.0, high=2.0):
    return ag.tensor(rng.uniform(low, high, shape), requires_grad=True)


# --- binary arithmetic with broadcasting ----------------------------------------
BINARY = {
    "add": (lambda a, b: a + b, np.add, (-2, 2), (-2, 2)),
    "sub": (lambda a, b: a - b, np.subtract, (-2, 2), (-2, 2)),
    "mul": (lambda a, b: a * b, np.multiply, (-2, 2), (-2, 2)),
    "div": (lambda a, b: a / b, np.divide, (-2, 2), (0.5, 2)),
    "pow": (lambda a, b: a**b, np.power, (0.5, 2), (-2, 2)),
    "maximum": (ag.maximum, np.maximum, (-2, 2), (-2, 2)),
    "minimum": (ag.minimum, np.minimum, (-2, 2), (-2, 2)),
}


@pytest.mark.parametrize("name", BINARY)
@given(
    shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3),
    seed=st.integers(0, 2**16),
)
def test_binary_ops_broadcast_forward_and_backward(name, shapes, seed):
    op, reference, domain_a, domain_b = BINARY[name]
    rng = np.random.default_rng(seed)
    a = _leaf(rng, shapes.input_shapes[0], *domain_a)
    b = _leaf(rng, shapes.input_shapes[1], *domain_b)
    out = op(a, b)
    np.testing.assert_allclose(out.data, reference(a.data, b.data))
    assert out.shape == shapes.result_shape
    gradcheck(op, [a, b])


@pytest.mark.parametrize("name", ["add", "sub", "mul", "div"])
def test_reflected_operators_with_scalars_lists_and_arrays(name):
    op = BINARY[name][0]
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    for other in (3.0, [3.0, 4.0], np.array([3.0, 4.0])):
        left, right = op(other, x), op(x, other)
        ref = BINARY[name][1]
        np.testing.assert_allclose(left.data, ref(np.asarray(other), x.data))
        np.testing.assert_allclose(right.data, ref(x.data, np.asarray(other)))
        assert isinstance(left, ag.Tensor) and left.grad_fn is not None


def test_ndarray_on_the_left_builds_a_tensor_not_an_object_array():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    y = np.array([3.0, 4.0]) * x
    assert isinstance(y, ag.Tensor)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [3.0, 4.0])
    assert isinstance(np.exp(x), ag.Tensor)


def test_power_with_tensor_exponent_closed_form():
    x = ag.tensor([0.5, 2.0], requires_grad=True)
    p = ag.tensor([3.0, -1.5], requires_grad=True)
    (x**p).sum().backward()
    np.testing.assert_allclose(x.grad.data, p.data * x.data ** (p.data - 1))
    np.testing.assert_allclose(p.grad.data, x.data**p.data * np.log(x.data))
    base = ag.tensor(2.0, requires_grad=True)
    e = ag.tensor([1.0, 3.0], requires_grad=True)
    (base**e).sum().backward()
    np.testing.assert_allclose(e.grad.data, 2.0**e.data * np.log(2.0))
    zero = ag.tensor(0.0, requires_grad=True)
    exponent = ag.tensor(2.0, requires_grad=True)
    (zero**exponent).backward()
    assert exponent.grad.item() == 0.0 and zero.grad.item() == 0.0


def test_unary_minus_and_abs():
    x = ag.tensor([-2.0, 0.0, 3.0], requires_grad=True)
    (-x + abs(x) + x.abs()).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [-1 - 2, -1 + 0, -1 + 2])


@pytest.mark.parametrize(
    "fn, domain",
    [(ag.exp, (-3, 3)), (ag.log, (0.1, 4)), (ag.sqrt, (0.1, 4)), (ag.abs, (0.1, 2)), (ag.sigmoid, (-6, 6)),
     (ag.relu, (0.1, 2)), (ag.tanh, (-3, 3)), (F.leaky_relu, (-2, -0.1)), (ag.softplus, (-6, 6))],
)  # fmt: skip
@given(shape=small_shapes, seed=st.integers(0, 2**16))
def test_unary_gradients(fn, domain, shape, seed):
    rng = np.random.default_rng(seed)
    gradcheck(fn, [_leaf(rng, shape, *domain)])


def test_activation_derivatives_closed_form():
    z = np.linspace(-5, 5, 11)
    cases = {
        ag.sigmoid: lambda v: np.exp(-v) / (1 + np.exp(-v)) ** 2,
        ag.tanh: lambda v: 1 / np.cosh(v) ** 2,
        ag.relu: lambda v: (v > 0).astype(float),
        lambda t: F.leaky_relu(t, 0.2): lambda v: np.where(v > 0, 1.0, 0.2),
        ag.softplus: lambda v: 1 / (1 + np.exp(-v)),
    }
    for fn, derivative in cases.items():
        x = ag.tensor(z, requires_grad=True)
        fn(x).sum().backward()
        np.testing.assert_allclose(x.grad.data, derivative(z), rtol=1e-12, atol=1e-15)


def test_sigmoid_is_finite_at_extremes():
    x = ag.tensor([-1000.0, 0.0, 1000.0], requires_grad=True)
    y = ag.sigmoid(x)
    np.testing.assert_allclose(y.data, [0.0, 0.5, 1.0])
    y.sum().backward()
    np.testing.assert_allclose(x.grad.data, [0.0, 0.25, 0.0])
    assert np.isfinite(ag.softplus(x).data).all()
    np.testing.assert_allclose(ag.softplus(x).data, [0.0, np.log(2), 1000.0])


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_softmax_and_log_softmax(axis, rng):
    z = ag.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    e = np.exp(z.data - z.data.max(axis=axis, keepdims=True))
    np.testing.assert_allclose(F.softmax(z, axis).data, e / e.sum(axis=axis, keepdims=True))
    np.testing.assert_allclose(F.log_softmax(z, axis).data, np.log(e / e.sum(axis=axis, keepdims=True)))
    gradcheck(lambda t: F.softmax(t, axis), [z])
    gradcheck(lambda t: F.log_softmax(t, axis), [z])


def test_softmax_family_is_stable_for_huge_logits():
    z = ag.tensor([[1000.0, -1000.0, 0.0], [-1000.0, -1000.0, -1000.0]], requires_grad=True)
    s, ls = F.softmax(z), F.log_softmax(z)
    assert np.isfinite(s.data).all() and np.isfinite(ls.data).all()
    np.testing.assert_allclose(s.data[0], [1.0, 0.0, 0.0])
    np.testing.assert_allclose(ls.data[1], np.log([1 / 3] * 3))
    (ls[:, 0].sum() + s[:, 1].sum()).backward()
    assert np.isfinite(z.grad.data).all()
    # row 1 is uniform (p = ⅓): ∂ls₀/∂z = e₀ − p, ∂s₁/∂z = p₁(e₁ − p)
    expected = np.array([2 / 3, -1 / 3, -1 / 3]) + np.array([-1 / 9, 2 / 9, -1 / 9])
    np.testing.assert_allclose(z.grad.data[1], expected, atol=1e-12)


# --- matmul -------------------------------------------------------------------
MATMUL_SHAPES = [
    ((4,), (4,)),
    ((4,), (4, 3)),
    ((2, 4), (4,)),
    ((2, 4), (4, 3)),
    ((5, 2, 4), (4, 3)),
    ((4,), (5, 4, 3)),
    ((5, 2, 4), (4,)),
    ((2, 1, 3, 4), (5, 4, 2)),
]


@pytest.mark.parametrize("shape_a, shape_b", MATMUL_SHAPES)
def test_matmul_numpy_semantics(shape_a, shape_b, rng):
    a, b = _leaf(rng, shape_a), _leaf(rng, shape_b)
    out = a @ b
    np.testing.assert_allclose(out.data, np.matmul(a.data, b.data))
    gradcheck(lambda x, y: x @ y, [a, b])
    gradcheck(ag.matmul, [a, b])


def test_matmul_closed_form_gradients(rng):
    W = _leaf(rng, (3, 5))
    x = _leaf(rng, (5, 2))
    g = rng.standard_normal((3, 2))
    (W @ x).backward(g)
    np.testing.assert_allclose(W.grad.data, g @ x.data.T)
    np.testing.assert_allclose(x.grad.data, W.data.T @ g)


# --- reductions ---------------------------------------------------------------
@st.composite
def shape_and_axis(draw):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
    axis = draw(st.none() | hnp.valid_tuple_axes(len(shape), min_size=1) | st.integers(-len(shape), len(shape) - 1))
    return shape, axis


def _reduced_count(shape, axis) -> int:
    axes = range(len(shape)) if axis is None else (axis,) if isinstance(axis, int) else axis
    return int(np.prod([shape[a] for a in axes]))


@pytest.mark.parametrize("name", ["sum", "mean", "max", "min", "var", "std"])
@given(case=shape_and_axis(), keepdims=st.booleans(), seed=st.integers(0, 2**16))
def test_reductions(name, case, keepdims, seed):
    shape, axis = case
    rng = np.random.default_rng(seed)
    x = _leaf(rng, shape)
    out = getattr(x, name)(axis=axis, keepdims=keepdims)
    np.testing.assert_allclose(out.data, getattr(np, name)(x.data, axis=axis, keepdims=keepdims), atol=1e-14)
    if name != "std":
        gradcheck(lambda t: getattr(t, name)(axis=axis, keepdims=keepdims), [x])


@given(
    case=shape_and_axis().filter(lambda case: _reduced_count(*case) >= 2),
    keepdims=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_std_gradient_over_distinct_values(case, keepdims, seed):
    # √ has an infinite slope at 0, so std's derivative needs a spread: every reduced group has
    # at least two elements, all elements at least 0.5 apart (a permuted grid plus small noise),
    # hence std ≥ 0.25 everywhere and the check runs on every example.
    shape, axis = case
    rng = np.random.default_rng(seed)
    grid = rng.permutation(int(np.prod(shape))).reshape(shape) * 0.6 + rng.uniform(-0.05, 0.05, shape)
    x = ag.tensor(grid - grid.mean(), requires_grad=True)
    out = x.std(axis=axis, keepdims=keepdims)
    np.testing.assert_allclose(out.data, np.std(x.data, axis=axis, keepdims=keepdims), atol=1e-14)
    assert np.all(out.data >= 0.25)
    assert gradcheck(lambda t: t.std(axis=axis, keepdims=keepdims), [x])
    with_ddof = x.std(axis=axis, keepdims=keepdims, ddof=1)
    np.testing.assert_allclose(with_ddof.data, np.std(x.data, axis=axis, keepdims=keepdims, ddof=1), atol=1e-14)
    assert gradcheck(lambda t: t.std(axis=axis, keepdims=keepdims, ddof=1), [x])


def test_std_of_one_element_is_zero_like_numpy():
    x = ag.tensor([[1.5], [-2.0]], requires_grad=True)
    np.testing.assert_array_equal(x.std(axis=1).data, [0.0, 0.0])


def test_var_ddof_matches_numpy(rng):
    x = _leaf(rng, (4, 5))
    np.testing.assert_allclose(x.var(axis=1, ddof=1).data, np.var(x.data, axis=1, ddof=1))
    gradcheck(lambda t: t.var(axis=0, ddof=1), [x])


def test_max_ties_split_the_gradient_evenly():
    x = ag.tensor([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]], requires_grad=True)
    x.max(axis=1).backward(np.array([1.0, 3.0]))
    np.testing.assert_allclose(x.grad.data, [[0, 0.5, 0.5], [1, 1, 1]])
    y = ag.tensor([1.0, 1.0], requires_grad=True)
    y.min().backward()
    np.testing.assert_allclose(y.grad.data, [0.5, 0.5])
    a = ag.tensor([1.0, 2.0], requires_grad=True)
    b = ag.tensor([1.0, 1.0], requires_grad=True)
    ag.maximum(a, b).sum().backward()
    np.testing.assert_allclose(a.grad.data, [0.5, 1.0])
    np.testing.assert_allclose(b.grad.data, [0.5, 0.0])


def test_median_of_values_with_a_nan_is_nan_like_numpy():
    # A nan sorts last, so the middle of [1, nan, 2] was 2; numpy's median (and PyTorch's)
    # is nan, and PyTorch gives the nan element δ.
    x = ag.tensor([[1.0, np.nan, 2.0], [3.0, 0.0, 1.0]], requires_grad=True)
    median = x.median(axis=1)
    np.testing.assert_array_equal(median.data, [np.nan, 1.0])
    median.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    even = ag.tensor([np.nan, 1.0, 2.0, 3.0], requires_grad=True)
    even.median().backward()
    assert np.isnan(ag.median(even).item())
    np.testing.assert_array_equal(even.grad.data, [1.0, 0.0, 0.0, 0.0])


@pytest.mark.parametrize(
    ("values", "dtype", "expected"),
    [([0, 1, 2, 3, 1], np.uint8, [3, 2, 1, 1, 0]), ([0, -128, 2, 1], np.int8, [2, 1, 0, -128]),
     ([True, False, True], np.bool_, [True, True, False])],
)  # fmt: skip
def test_a_descending_sort_orders_unsigned_smallest_and_boolean_values(values, dtype, expected):
    # Sorting −x wraps uint8 0 to 0 and int8 −128 to −128 (uint8 [0, 1, 2] gave [0, 2, 1]).
    x = ag.tensor(np.array(values, dtype=dtype))
    np.testing.assert_array_equal(x.sort(descending=True).data, expected)
    top = x.topk(2)
    np.testing.assert_array_equal(top.values.data, expected[:2])
    np.testing.assert_array_equal(x.data[top.indices], expected[:2])


def test_a_descending_sort_puts_nan_first_and_keeps_ties_in_order_as_pytorch():
    # nan is the largest value (numpy's ascending order puts it last); PyTorch's order here
    # is [1, 4, 2, 0, 6, 3, 5], and its topk(3) gives nan, nan, inf.
    x = ag.tensor([2.0, np.nan, np.inf, 1.0, np.nan, -np.inf, 2.0], requires_grad=True)
    values = x.sort(descending=True)
    np.testing.assert_array_equal(values.data, [np.nan, np.nan, np.inf, 2.0, 2.0, 1.0, -np.inf])
    values.backward(np.arange(7.0))  # δ of output k goes back to the element it came from
    np.testing.assert_array_equal(x.grad.data, [3.0, 0.0, 2.0, 5.0, 1.0, 6.0, 4.0])
    np.testing.assert_array_equal(x.topk(3).indices, [1, 4, 2])


def test_fmod_and_remainder_slopes_are_the_quotients_their_values_used():
    # float 0.1 exceeds 1/10, so fmod(1.0, 0.1) = 1.0 − 9 · 0.1 = 0.0999…95, yet 1.0 / 0.1
    # rounds to 10.0: trunc(x / y) gave fmod δy = −10, the slope of the other side of the
    # jump, while remainder (the same function for positive operands) gave −9.
    xs, ys = [0.5, 1.0, 1.7, -1.0, 1.0, 2.9], [0.1, 0.1, 0.1, 0.1, -0.1, 1.02]
    for op in (ag.fmod, ag.remainder):
        x, y = ag.tensor(xs, requires_grad=True), ag.tensor(ys, requires_grad=True)
        z = op(x, y)
        z.sum().backward()
        quotients = [(Fraction(a) - Fraction(float(c))) / Fraction(b) for a, b, c in zip(xs, ys, z.data)]
        assert all(q.denominator == 1 for q in quotients)  # z = x − q · y exactly
        np.testing.assert_array_equal(y.grad.data, [-float(q) for q in quotients])
        np.testing.assert_array_equal(x.grad.data, np.ones(6))
    np.testing.assert_array_equal(ag.fmod(ag.tensor(xs), ag.tensor(ys)).data, np.fmod(xs, ys))


def test_reduction_axis_errors():
    x = ag.tensor(np.ones((2, 3)))
    with pytest.raises(ValueError, match="sum: axis 2 is out of bounds for an array of dimension 2"):
        x.sum(axis=2)
    with pytest.raises(ValueError, match="mean: repeated axis"):
        x.mean(axis=(0, -2))


# --- shape ops ----------------------------------------------------------------
def test_reshape_signatures(rng):
    x = _leaf(rng, (2, 3, 4))
    assert x.reshape(6, 4).shape == (6, 4)
    assert x.reshape((4, -1)).shape == (4, 6)
    assert x.reshape([24]).shape == (24,)
    gradcheck(lambda t: t.reshape(4, -1) * np.arange(6), [x])


def test_transpose_signatures(rng):
    x = _leaf(rng, (2, 3, 4))
    for out, ref in [
        (x.transpose(), x.data.transpose()),
        (x.transpose(1, 0, 2), x.data.transpose(1, 0, 2)),
        (x.transpose((2, 0, 1)), x.data.transpose((2, 0, 1))),
        (x.T, x.data.T),
        (x.swapaxes(0, 2), x.data.swapaxes(0, 2)),
    ]:
        np.testing.assert_array_equal(out.data, ref)
    gradcheck(lambda t: t.transpose(2, 0, 1) * np.arange(3), [x])
    gradcheck(lambda t: t.T, [x])


def test_squeeze_expand_dims_flatten(rng):
    x = _leaf(rng, (2, 1, 3))
    assert x.squeeze().shape == (2, 3)
    assert x.squeeze(1).shape == (2, 3)
    assert x.expand_dims(0).shape == (1, 2, 1, 3)
    assert x.expand_dims((0, -1)).shape == (1, 2, 1, 3, 1)
    assert x.flatten().shape == (6,)
    gradcheck(lambda t: t.squeeze(1).expand_dims(-1).flatten(), [x])
    with pytest.raises(ValueError, match="squeeze"):
        x.squeeze(0)


def test_broadcast_to_sums_gradient_back(rng):
    x = _leaf(rng, (3, 1))
    y = x.broadcast_to((2, 3, 4))
    assert y.shape == (2, 3, 4)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, np.full((3, 1), 8.0))
    gradcheck(lambda t: t.broadcast_to((2, 3, 4)) * np.arange(4), [x])


INDICES = [
    (slice(1, 3),),
    (Ellipsis, 0),
    (slice(None), None, slice(None, None, -1)),
    (np.array([0, 2, 0]),),
    (np.array([[1, 1], [0, 2]]), slice(1, None)),
    (np.array([True, False, True]),),
    (1, -1),
    (np.array([0, 0, 2]), np.array([1, 1, 3])),
]


@pytest.mark.parametrize("index", INDICES, ids=repr)
def test_getitem(index, rng):
    x = _leaf(rng, (3, 4))
    np.testing.assert_array_equal(x[index].data, x.data[index])
    gradcheck(lambda t: t[index], [x])


def test_repeated_indices_accumulate():
    x = ag.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x[[0, 0, 2, 0]].sum().backward()
    np.testing.assert_array_equal(x.grad.data, [3.0, 0.0, 1.0])
    y = ag.tensor(np.zeros((2, 2)), requires_grad=True)
    y[ag.tensor(np.array([1, 1]))].sum().backward()  # a Tensor index works like an array
    np.testing.assert_array_equal(y.grad.data, [[0, 0], [2, 2]])


def test_iteration_yields_rows():
    x = ag.tensor(np.arange(6.0).reshape(3, 2), requires_grad=True)
    rows = list(x)
    assert len(rows) == 3 and len(x) == 3
    (rows[0] * rows[2]).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [[4, 5], [0, 0], [0, 1]])


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_concatenate_and_stack(axis, rng):
    a, b = _leaf(rng, (2, 3)), _leaf(rng, (2, 3))
    np.testing.assert_array_equal(ag.concatenate([a, b], axis=axis).data, np.concatenate([a.data, b.data], axis=axis))
    np.testing.assert_array_equal(ag.stack([a, b], axis=axis).data, np.stack([a.data, b.data], axis=axis))
    gradcheck(lambda x, y: ag.concatenate([x, y * 2], axis=axis), [a, b])
    gradcheck(lambda x, y: ag.stack([x, y * 2, x], axis=axis), [a, b])


def test_concatenate_mixed_constant_and_unequal_sizes(rng):
    a, c = _leaf(rng, (2, 3)), np.ones((2, 1))
    out = ag.concatenate([a, c, a], axis=1)
    assert out.shape == (2, 7)
    gradcheck(lambda x: ag.concatenate([x, c, x], axis=1), [a])


# --- selection ------------------------------------------------------------------
def test_where_and_clip(rng):
    a, b = _leaf(rng, (3, 4)), _leaf(rng, (4,))
    cond = a.data > 0
    np.testing.assert_array_equal(ag.where(cond, a, b).data, np.where(cond, a.data, b.data))
    gradcheck(lambda x, y: ag.where(cond, x, y), [a, b])
    x = ag.tensor([-2.0, -0.5, 0.5, 2.0], requires_grad=True)
    y = x.clip(-1, 1)
    np.testing.assert_array_equal(y.data, [-1, -0.5, 0.5, 1])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [0, 1, 1, 0])
    np.testing.assert_array_equal(ag.clip(x, None, 0).data, [-2, -0.5, 0, 0])
    np.testing.assert_array_equal(x.clip(a_min=0).data, [0, 0, 0.5, 2])


@pytest.mark.parametrize(
    ("a_min", "a_max", "expected"),
    [(-1.0, 1.0, [1, 2, 3, 0, 0]), (0.0, None, [0, 2, 3, 0, 5]), (None, 0.0, [1, 2, 0, 4, 0])],
)
def test_clip_passes_the_gradient_at_its_bounds(a_min, a_max, expected):
    """PyTorch's clamp: δx = δz · [lo ≤ x ≤ hi], the bounds included (x = −1, 0, 1 sit on them)."""
    x = ag.tensor([-1.0, 0.0, 1.0, -3.0, 3.0], requires_grad=True)
    x.clip(a_min, a_max).backward(ag.tensor([1.0, 2.0, 3.0, 4.0, 5.0]))
    np.testing.assert_array_equal(x.grad.data, expected)


def test_comparisons_return_plain_boolean_arrays():
    x = ag.tensor([1.0, 2.0, 3.0], requires_grad=True)
    for result in (x < 2, x <= 2, x > 2, x >= 2, x == 2, x != 2, 2 < x, np.array([1, 1, 1]) < x):
        assert type(result) is np.ndarray and result.dtype == bool
    np.testing.assert_array_equal(x > ag.tensor([0.0, 5.0, 1.0]), [True, False, True])


# --- losses against independent numpy formulas -----------------------------------
def test_losses_take_targets_given_as_lists_and_numbers(rng):
    y_hat = _leaf(rng, (3,))
    target = [0.5, -1.0, 2.0]
    np.testing.assert_allclose(F.mse_loss(y_hat, target).item(), np.mean((y_hat.data - np.array(target)) ** 2))
    np.testing.assert_allclose(F.l1_loss(y_hat, target).item(), np.mean(np.abs(y_hat.data - np.array(target))))
    scalar = ag.tensor(0.25, requires_grad=True)
    np.testing.assert_allclose(F.mse_loss(scalar, 1.0).item(), 0.5625)
    with pytest.raises(ValueError, match=r"mse_loss: input has shape \(3,\) but target has shape \(2,\)"):
        F.mse_loss(y_hat, [1.0, 2.0])


def test_mse_loss(rng):
    y_hat, y = _leaf(rng, (5, 2)), rng.standard_normal((5, 2))
    np.testing.assert_allclose(F.mse_loss(y_hat, y).item(), np.mean((y_hat.data - y) ** 2))
    np.testing.assert_allclose(F.mse_loss(y_hat, y, reduction="sum").item(), np.sum((y_hat.data - y) ** 2))
    assert F.mse_loss(y_hat, y, reduction="none").shape == (5, 2)
    F.mse_loss(y_hat, y).backward()
    np.testing.assert_allclose(y_hat.grad.data, 2 * (y_hat.data - y) / y.size)
    with pytest.raises(ValueError, match=r"mse_loss: input has shape \(5, 2\) but target has shape \(5,\)"):
        F.mse_loss(y_hat, y[:, 0])


def test_cross_entropy_with_labels_and_probabilities(rng):
    logits = _leaf(rng, (4, 3))
    labels = np.array([0, 2, 1, 2])
    z = logits.data
    log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    np.testing.assert_allclose(F.cross_entropy(logits, labels).item(), -log_p[np.arange(4), labels].mean())
    F.cross_entropy(logits, labels).backward()
    one_hot = np.eye(3)[labels]
    np.testing.assert_allclose(logits.grad.data, (np.exp(log_p) - one_hot) / 4)
    probs = rng.dirichlet(np.ones(3), size=4)
    np.testing.assert_allclose(F.cross_entropy(logits, probs, reduction="sum").item(), -(probs * log_p).sum())
    gradcheck(lambda t: F.cross_entropy(t, labels, reduction="none"), [logits])
    huge = ag.tensor([[1000.0, -1000.0], [-1000.0, 1000.0]], requires_grad=True)
    loss = F.cross_entropy(huge, np.array([1, 1]))
    np.testing.assert_allclose(loss.item(), 1000.0)
    loss.backward()
    assert np.isfinite(huge.grad.data).all()
    with pytest.raises(ValueError, match=r"class labels must be in \[0, 3\)"):
        F.cross_entropy(logits, np.array([0, 3, 1, 1]))


def test_binary_cross_entropy_losses(rng):
    z = _leaf(rng, (6,))
    y = rng.integers(0, 2, 6).astype(float)
    p = 1 / (1 + np.exp(-z.data))
    expected = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
    np.testing.assert_allclose(F.binary_cross_entropy_with_logits(z, y).item(), expected)
    np.testing.assert_allclose(F.binary_cross_entropy(ag.sigmoid(z), y).item(), expected)
    F.binary_cross_entropy_with_logits(z, y).backward()
    np.testing.assert_allclose(z.grad.data, (p - y) / 6)
    probs = ag.tensor(rng.uniform(0.05, 0.95, 6), requires_grad=True)
    gradcheck(lambda t: F.binary_cross_entropy(t, y, reduction="none"), [probs])
    extreme = ag.tensor([1000.0, -1000.0], requires_grad=True)
    loss = F.binary_cross_entropy_with_logits(extreme, np.array([0.0, 1.0]))
    np.testing.assert_allclose(loss.item(), 1000.0)
    loss.backward()
    np.testing.assert_allclose(extreme.grad.data, [0.5, -0.5])
    certain = ag.tensor([0.0, 1.0], requires_grad=True)
    loss = F.binary_cross_entropy(certain, np.array([1.0, 0.0]))
    np.testing.assert_allclose(loss.item(), 100.0)  # logs clamped at −100, as PyTorch
    loss.backward()
    assert np.isfinite(certain.grad.data).all()
    with pytest.raises(ValueError, match="probabilities must lie in"):
        F.binary_cross_entropy(ag.tensor([1.5]), np.array([1.0]))


def test_linear_and_dropout(rng):
    x, W, b = _leaf(rng, (4, 3)), _leaf(rng, (2, 3)), _leaf(rng, (2,))
    np.testing.assert_allclose(F.linear(x, W, b).data, x.data @ W.data.T + b.data)
    gradcheck(F.linear, [x, W, b])
    kept = F.dropout(ag.tensor(np.ones(10_000)), p=0.25, rng=np.random.default_rng(0)).data
    assert set(np.unique(kept)) == {0.0, 1 / 0.75}
    assert abs((kept == 0).mean() - 0.25) < 0.02
    assert F.dropout(x, p=0.5, training=False) is x


def test_cross_entropy_target_errors_and_soft_label_gradients(rng):
    logits = _leaf(rng, (4, 3))
    with pytest.raises(TypeError, match=r"cross_entropy: class labels must be integers, got dtype float64"):
        F.cross_entropy(logits, np.array([0.0, 1.0, 2.0, 1.0]))
    probs = ag.tensor(rng.dirichlet(np.ones(3), size=4), requires_grad=True)
    F.cross_entropy(logits, probs).backward()
    z = logits.data
    log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    np.testing.assert_allclose(probs.grad.data, -log_p / 4)  # ∂/∂t of −mean Σ t log p


@pytest.mark.parametrize("loss", ["cross_entropy", "binary_cross_entropy", "binary_cross_entropy_with_logits"])
def test_a_target_of_another_dtype_keeps_its_gradient(loss):
    """A float64 target tensor beside float32 predictions is cast in the graph: its δ arrives
    (in float64), equal to the closed form, instead of being cut off by a cast of its array."""
    rng = np.random.default_rng(0)
    z = rng.uniform(-2, 2, (4, 3))
    y = rng.uniform(0.1, 0.9, (4, 3))
    prediction = 1 / (1 + np.exp(-z)) if loss == "binary_cross_entropy" else z
    target = ag.tensor(y, requires_grad=True)
    getattr(ag.functional, loss)(ag.tensor(prediction.astype(np.float32)), target).backward()
    if loss == "cross_entropy":  # C = mean over rows of −Σₖ yₖ ln softmax(z)ₖ: δy = −ln softmax(z) / rows
        expected = -(z - np.log(np.exp(z).sum(axis=1, keepdims=True))) / 4
    else:  # C = mean of −[y ln σ + (1 − y) ln(1 − σ)]: δy = (ln(1 − σ) − ln σ) / n = −z / n
        expected = -z / 12
    assert target.grad is not None and target.grad.dtype == np.float64
    np.testing.assert_allclose(target.grad.data, expected, rtol=1e-5, atol=1e-6)
