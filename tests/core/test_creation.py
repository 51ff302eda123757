"""Making tensors: from a shape (numpy's signatures, PyTorch's dtype=/requires_grad=), random
tensors and their seeding, *_like and new_* factories, one_hot and unravel_index."""

from __future__ import annotations

import numpy as np
import pytest

import autograd_nn as ag
import autograd_nn.functional as F
from autograd_nn import nn


@pytest.mark.parametrize("make", [ag.zeros, ag.ones, ag.empty])
def test_shape_factories_take_numpy_and_pytorch_shapes(make):
    expected = 1.0 if make is ag.ones else 0.0
    for t in (make((2, 3)), make(2, 3), make([2, 3])):
        assert t.shape == (2, 3) and t.dtype == np.float64 and np.all(t.data == expected)
        assert t.is_leaf and not t.requires_grad
    assert make(4, dtype=np.float32).dtype == np.float32 and make(()).shape == ()
    leaf = make(3, requires_grad=True)
    assert leaf.requires_grad and leaf.is_leaf
    with pytest.raises(TypeError, match=rf"{make.__name__}: only floating-point tensors can require gradients"):
        make(3, dtype=np.int32, requires_grad=True)
    with pytest.raises(ValueError, match=rf"{make.__name__}: a shape is non-negative ints, got \(2, -1\)"):
        make(2, -1)


def test_full_arange_linspace_eye_follow_numpy():
    np.testing.assert_array_equal(ag.full((2, 2), 7).data, np.full((2, 2), 7))
    assert ag.full(3, 7).dtype == np.int64 and ag.full(3, 0.5).dtype == np.float64
    assert ag.full(3, 7, dtype=np.float32, requires_grad=True).requires_grad
    np.testing.assert_array_equal(ag.arange(5).data, [0, 1, 2, 3, 4])
    np.testing.assert_array_equal(ag.arange(1, 2, 0.25).data, [1.0, 1.25, 1.5, 1.75])
    assert ag.arange(3, dtype=np.float32).dtype == np.float32
    with pytest.raises(TypeError, match="arange: takes 1 to 3 positional arguments"):
        ag.arange()
    np.testing.assert_array_equal(ag.linspace(0, 1, 5).data, [0, 0.25, 0.5, 0.75, 1])
    assert ag.linspace(0, 1, 4, endpoint=False).data.tolist() == [0, 0.25, 0.5, 0.75]
    np.testing.assert_array_equal(ag.eye(2, 3, k=1).data, [[0, 1, 0], [0, 0, 1]])
    assert ag.eye(3, requires_grad=True).requires_grad and ag.eye(2).dtype == np.float64


def test_random_tensors_are_reproducible_under_manual_seed():
    ag.manual_seed(123)
    first = [ag.rand(2, 3), ag.randn((4,)), ag.normal(1.0, 2.0, (5,)), ag.uniform(-1, 1, 3), ag.randint(10, size=6),
             ag.randperm(5)]  # fmt: skip
    ag.manual_seed(123)
    again = [ag.rand((2, 3)), ag.randn(4), ag.normal(1.0, 2.0, size=5), ag.uniform(-1, 1, (3,)),
             ag.randint(0, 10, (6,)), ag.randperm(5)]  # fmt: skip
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a.data, b.data)
    reference = np.random.default_rng(123)
    np.testing.assert_array_equal(first[0].data, reference.random((2, 3)))
    assert sorted(first[5].tolist()) == [0, 1, 2, 3, 4] and first[4].dtype == np.int64
    assert np.all((0 <= first[4].data) & (first[4].data < 10))


def test_one_seed_drives_nn_init_too():
    ag.manual_seed(7)
    layer = nn.Linear(3, 2)
    nn.init.manual_seed(7)
    assert nn.init.default_generator() is ag.random.default_generator()
    np.testing.assert_array_equal(nn.Linear(3, 2).weight.data, layer.weight.data)


def test_random_tensors_take_an_explicit_generator_dtype_and_requires_grad():
    a = ag.randn(3, generator=np.random.default_rng(5), dtype=np.float32, requires_grad=True)
    b = ag.randn(3, generator=np.random.default_rng(5), dtype=np.float32)
    assert a.dtype == np.float32 and a.requires_grad and np.array_equal(a.data, b.data)
    assert ag.uniform(2.0, 3.0, size=(100,)).data.min() >= 2.0
    assert ag.normal(size=(2, 2)).shape == (2, 2) and ag.normal().shape == ()
    with pytest.raises(TypeError, match="rand: generator must be a numpy.random.Generator, got int"):
        ag.rand(2, generator=0)
    with pytest.raises(TypeError, match="randn: dtype must be a floating-point type, got int64"):
        ag.randn(2, dtype=np.int64)
    with pytest.raises(ValueError, match="randint: need low < high, got low=3, high=3"):
        ag.randint(3, 3)


def test_like_and_new_factories():
    x = ag.tensor(np.arange(6.0, dtype=np.float32).reshape(2, 3), requires_grad=True)
    for made, value in ((ag.zeros_like(x), 0), (ag.ones_like(x), 1), (ag.full_like(x, 2.5), 2.5),
                        (ag.empty_like(x), 0), (np.zeros_like(x), 0), (np.ones_like(x), 1)):  # fmt: skip
        assert isinstance(made, ag.Tensor) and made.shape == (2, 3) and made.dtype == np.float32
        assert np.all(made.data == value) and made.is_leaf and not made.requires_grad
    assert ag.zeros_like(x, dtype=np.float64, requires_grad=True).requires_grad
    assert x.new_zeros(4).shape == (4,) and x.new_ones((2, 2)).dtype == np.float32
    assert x.new_empty(1, 2).shape == (1, 2) and x.new_full((3,), 7.0).tolist() == [7.0, 7.0, 7.0]
    made = x.new_tensor([1, 2])
    assert made.dtype == np.float32 and made.tolist() == [1.0, 2.0] and not made.requires_grad


def test_one_hot_and_unravel_index():
    np.testing.assert_array_equal(ag.one_hot([2, 0]).data, [[0, 0, 1], [1, 0, 0]])
    assert ag.one_hot(ag.tensor([[1]]), num_classes=4).shape == (1, 1, 4)
    assert ag.one_hot(np.array([1]), 2).dtype == np.int64
    with pytest.raises(ValueError, match="one_hot: label 3 is out of range for num_classes=3"):
        ag.one_hot([3], 3)
    with pytest.raises(TypeError, match="one_hot: expected integer indices, got dtype float64"):
        ag.one_hot([0.5])
    rows, cols = ag.unravel_index(ag.tensor([1, 5]), (2, 3))
    assert rows.tolist() == [0, 1] and cols.tolist() == [1, 2]


def test_one_hot_is_in_functional_as_in_pytorch():
    assert F.one_hot is ag.one_hot
    assert F.one_hot(np.array([2, 0]), 3).tolist() == [[0, 0, 1], [1, 0, 0]]
