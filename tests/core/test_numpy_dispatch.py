"""numpy functions and ufuncs called on tensors: those with an op run it (recorded, so
gradients flow); the others refuse in one line instead of silently dropping the gradient."""

from __future__ import annotations

import numpy as np
import pytest

import autograd_nn as ag


def test_numpy_functions_with_an_op_run_it():
    x = ag.tensor([[1.0, -2.0], [3.0, 0.5]], requires_grad=True)
    total = np.sum(x, axis=0)
    joined = np.concatenate([x, np.ones((1, 2))])
    assert total.grad_fn.name == "Sum" and joined.grad_fn.name == "Concatenate"
    assert np.mean(x).grad_fn.name == "Mean" and np.linalg.norm(x).requires_grad
    (np.max(x) + np.clip(x, 0, 1).sum() + np.where(x.data > 0, x, 0).sum() + total.sum()).backward()
    expected = np.array([[0.0, 0.0], [1.0, 0.0]]) + [[1, 0], [0, 1]] + [[1, 0], [1, 1]] + 1
    np.testing.assert_allclose(x.grad.data, expected)


def test_numpy_functions_that_inspect_arrays_work_on_tensors():
    x = ag.tensor([1.0, np.nan], requires_grad=True)
    assert np.shape(x) == (2,) and np.ndim(x) == 1 and np.size(x) == 2
    assert np.allclose(x, x, equal_nan=True) and not np.array_equal(x, x)
    assert np.isnan(x).tolist() == [False, True] and np.isclose(x, 1.0).tolist() == [True, False]
    np.testing.assert_allclose(x, [1.0, np.nan])  # np.testing reads tensors as arrays


def test_numpy_functions_without_an_op_refuse_in_one_line():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(TypeError, match=r"^numpy.gradient has no autograd_nn op, so it cannot take tensors") as caught:
        np.gradient(x)
    assert "\n" not in str(caught.value)
    with pytest.raises(TypeError, match=r"^numpy.linalg.det has no autograd_nn op"):
        np.linalg.det(ag.tensor(np.eye(2)))
    with pytest.raises(TypeError, match=r"^numpy's bitwise_and has no autograd_nn op"):
        np.bitwise_and(ag.tensor([1]), 3)
