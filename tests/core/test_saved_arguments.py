"""An op keeps its own copy of the index, label and mask arrays its derivative reads again.

A caller may change such an array in place between the forward and the backward (a data
loader reusing its buffer, ``idx[:] = ...``, or an in-place op on an integer tensor): the
gradient must still be the one of the forward that ran. Each test changes the array after
the forward and compares δ with a closed form computed from the original array.
"""

from __future__ import annotations

import numpy as np
import pytest

import autograd_nn as ag
from autograd_nn import functional as F
from autograd_nn.ops.pool import PlaneGather, PlaneScatter
from autograd_nn.ops.shape import IndexAdd

RNG = np.random.default_rng(20261202)


def _leaf(shape: tuple[int, ...]) -> ag.Tensor:
    return ag.tensor(RNG.standard_normal(shape), requires_grad=True)


def _backward_with(z: ag.Tensor, cotangent: np.ndarray) -> None:
    (z * ag.tensor(cotangent)).sum().backward()


def test_embedding_gradient_goes_to_the_rows_looked_up_not_the_changed_indices() -> None:
    W = ag.tensor(np.eye(3), requires_grad=True)
    idx = np.array([0, 1])
    z = F.embedding(idx, W)
    idx[:] = 2
    z.sum().backward()
    np.testing.assert_array_equal(W.grad.numpy(), [[1.0, 1.0, 1.0], [1.0, 1.0, 1.0], [0.0, 0.0, 0.0]])


@pytest.mark.parametrize("options", [{}, {"padding_idx": 1}, {"scale_grad_by_freq": True}])
def test_embedding_keeps_its_indices(options: dict) -> None:
    W = _leaf((5, 3))
    idx = np.array([[0, 3, 3], [4, 1, 0]])
    original = idx.copy()
    z = F.embedding(idx, W, **options)
    cotangent = RNG.standard_normal(z.shape)
    idx[...] = 2
    _backward_with(z, cotangent)
    rows = cotangent.copy()
    if options.get("scale_grad_by_freq"):
        rows /= np.bincount(original.ravel(), minlength=5)[original][..., None]
    if "padding_idx" in options:
        rows *= (original != options["padding_idx"])[..., None]
    expected = np.zeros((5, 3))
    np.add.at(expected, original, rows)
    np.testing.assert_allclose(W.grad.numpy(), expected, rtol=1e-12, atol=1e-12)


def test_embedding_keeps_the_indices_of_an_integer_tensor_changed_in_place() -> None:
    W = _leaf((4, 2))
    idx = ag.tensor(np.array([0, 1, 1]))
    z = F.embedding(idx, W)
    cotangent = RNG.standard_normal(z.shape)
    idx.fill_(3)  # an in-place op: no version check watches an array kept on ctx
    _backward_with(z, cotangent)
    expected = np.zeros((4, 2))
    np.add.at(expected, np.array([0, 1, 1]), cotangent)
    np.testing.assert_allclose(W.grad.numpy(), expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("label_smoothing", [0.0, 0.2])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_at_labels_keeps_its_labels(reduction: str, label_smoothing: float) -> None:
    z = _leaf((4, 3))
    labels = np.array([0, 2, 1, 2])
    original = labels.copy()
    loss = F.cross_entropy(z, labels, reduction=reduction, label_smoothing=label_smoothing)
    assert loss.grad_fn.fn.__name__ == "SoftmaxCrossEntropyLabels"  # the labels node, not the general graph
    cotangent = RNG.standard_normal(loss.shape)
    labels[:] = 0
    _backward_with(loss, cotangent)
    x = z.data
    p = np.exp(x - x.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    y = np.eye(3)[original] * (1 - label_smoothing) + label_smoothing / 3
    per_sample = {"mean": np.full(4, cotangent / 4), "sum": np.full(4, cotangent), "none": cotangent}[reduction]
    np.testing.assert_allclose(z.grad.numpy(), per_sample[:, None] * (p - y), rtol=1e-12, atol=1e-12)


def test_cross_entropy_at_labels_keeps_its_labels_under_create_graph() -> None:
    z = _leaf((3, 4))
    labels = np.array([3, 0, 1])
    original = labels.copy()
    loss = F.cross_entropy(z, labels, reduction="sum")
    labels[:] = 2
    (grad,) = ag.grad(loss, [z], create_graph=True)
    x = z.data
    p = np.exp(x - x.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(grad.numpy(), p - np.eye(4)[original], rtol=1e-12, atol=1e-12)


def test_getitem_keeps_an_integer_index() -> None:
    x = _leaf((5,))
    idx = np.array([4, 0, 4])
    z = x[idx]
    cotangent = RNG.standard_normal(3)
    idx[:] = 1
    _backward_with(z, cotangent)
    np.testing.assert_allclose(x.grad.numpy(), [cotangent[1], 0, 0, 0, cotangent[0] + cotangent[2]], rtol=1e-12)


def test_getitem_keeps_the_arrays_of_a_tuple_index_and_a_mask() -> None:
    x = _leaf((3, 4))
    rows, mask = np.array([2, 0]), np.array([True, False, True, False])
    z = x[rows, :][:, mask]
    cotangent = RNG.standard_normal(z.shape)
    rows[:] = 1
    mask[:] = True
    _backward_with(z, cotangent)
    expected = np.zeros((3, 4))
    expected[np.ix_([2, 0], [0, 2])] = cotangent
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-12, atol=1e-12)


def test_gather_and_take_along_axis_keep_their_indices() -> None:
    x = _leaf((2, 3))
    index = np.array([[2, 2], [0, 1]])
    z = ag.gather(x, 1, index) + ag.take_along_axis(x, index, axis=1)
    cotangent = RNG.standard_normal(z.shape)
    index[...] = 0
    _backward_with(z, cotangent)
    expected = np.zeros((2, 3))
    np.add.at(expected, (np.array([[0, 0], [1, 1]]), np.array([[2, 2], [0, 1]])), 2 * cotangent)
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-12, atol=1e-12)


def test_where_and_masked_fill_keep_their_masks() -> None:
    x, y = _leaf((4,)), _leaf((4,))
    condition = np.array([True, False, False, True])
    z = ag.where(condition, x, y) + ag.masked_fill(x, condition, 0.0)
    cotangent = RNG.standard_normal(4)
    condition[:] = ~condition
    _backward_with(z, cotangent)
    c = np.array([True, False, False, True])
    np.testing.assert_allclose(x.grad.numpy(), cotangent * c + cotangent * ~c, rtol=1e-12)
    np.testing.assert_allclose(y.grad.numpy(), cotangent * ~c, rtol=1e-12)


def test_where_keeps_the_mask_of_a_boolean_tensor_changed_in_place() -> None:
    x, y = _leaf((3,)), _leaf((3,))
    condition = ag.tensor(np.array([True, True, False]))
    z = ag.where(condition, x, y)
    cotangent = RNG.standard_normal(3)
    condition.zero_()
    _backward_with(z, cotangent)
    np.testing.assert_allclose(x.grad.numpy(), cotangent * [1, 1, 0], rtol=1e-12)
    np.testing.assert_allclose(y.grad.numpy(), cotangent * [0, 0, 1], rtol=1e-12)


def test_setitem_keeps_its_index() -> None:
    x, v = _leaf((5,)), _leaf((2,))
    idx = np.array([3, 1])
    z = x * 1.0
    z[idx] = v
    cotangent = RNG.standard_normal(5)
    idx[:] = [0, 4]
    _backward_with(z, cotangent)
    np.testing.assert_allclose(v.grad.numpy(), cotangent[[3, 1]], rtol=1e-12)
    np.testing.assert_allclose(x.grad.numpy(), cotangent * [1, 0, 1, 0, 1], rtol=1e-12)


def test_scatter_and_scatter_add_keep_their_indices() -> None:
    x, src = _leaf((2, 3)), _leaf((2, 2))
    index = np.array([[2, 0], [1, 2]])
    z = ag.scatter(x, 1, index, src) + ag.scatter_add(x, 1, index, src)
    cotangent = RNG.standard_normal(z.shape)
    index[...] = [[0, 1], [0, 1]]
    _backward_with(z, cotangent)
    at = (np.array([[0, 0], [1, 1]]), np.array([[2, 0], [1, 2]]))
    written = np.zeros((2, 3), dtype=bool)
    written[at] = True
    np.testing.assert_allclose(src.grad.numpy(), 2 * cotangent[at], rtol=1e-12)
    np.testing.assert_allclose(x.grad.numpy(), cotangent * ~written + cotangent, rtol=1e-12)


def test_index_add_keeps_its_index() -> None:
    x = _leaf((3,))
    idx = np.array([0, 0, 2])
    z = IndexAdd.apply(x, shape=(4,), index=idx)
    cotangent = RNG.standard_normal(4)
    idx[:] = 3
    _backward_with(z, cotangent)
    np.testing.assert_allclose(x.grad.numpy(), cotangent[[0, 0, 2]], rtol=1e-12)


def test_plane_gather_keeps_its_index() -> None:
    # (interpolate's gathers: z[r, o] = x[r, i[o]]; its adjoint PlaneScatter: x[r, i[o]] += g[r, o])
    idx = np.array([[0, 3, 3]])
    columns = idx[0].copy()
    x = _leaf((2, 4))
    z = PlaneGather.apply(x, index=idx, dims=1)
    cotangent = RNG.standard_normal((2, 3))
    idx[...] = 1
    _backward_with(z, cotangent)
    expected = np.zeros((2, 4))
    np.add.at(expected, (slice(None), columns), cotangent)
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-12)


def test_plane_scatter_keeps_its_index() -> None:
    idx = np.array([[0, 3, 3]])
    columns = idx[0].copy()
    g = _leaf((2, 3))
    scattered = PlaneScatter.apply(g, index=idx, size=(4,))
    cotangent = RNG.standard_normal((2, 4))
    idx[...] = 1
    _backward_with(scattered, cotangent)
    np.testing.assert_allclose(g.grad.numpy(), cotangent[:, columns], rtol=1e-12)
