"""nn.utils: gradient clipping against closed forms and against torch.nn.utils (same grads,
same norms, same clipped values), and the parameter <-> vector helpers."""

from __future__ import annotations

import math

import numpy as np
import pytest

import autograd_nn as ag
from autograd_nn import nn


def _params_with_grads(grads):
    params = []
    for g in grads:
        p = nn.Parameter(np.zeros_like(g))
        p.grad = ag.tensor(g)
        params.append(p)
    return params


def test_clip_grad_norm_closed_form():
    # ‖(3, 4, 12)‖ = 13 across two parameters: scaled by 6.5 / (13 + 1e-6)
    params = _params_with_grads([np.array([3.0, 4.0]), np.array([[12.0]])])
    total = nn.utils.clip_grad_norm_(params, max_norm=6.5)
    assert isinstance(total, ag.Tensor) and total.ndim == 0 and total.item() == pytest.approx(13.0, rel=1e-15)
    scale = 6.5 / (13 + 1e-6)
    np.testing.assert_allclose(params[0].grad.numpy(), [3 * scale, 4 * scale], rtol=1e-15)
    np.testing.assert_allclose(params[1].grad.numpy(), [[12 * scale]], rtol=1e-15)


def test_clip_grad_norm_leaves_small_gradients_alone_and_handles_inf_norm():
    params = _params_with_grads([np.array([0.3, -0.4])])
    assert nn.utils.clip_grad_norm_(params, 1.0).item() == pytest.approx(0.5)
    np.testing.assert_array_equal(params[0].grad.numpy(), [0.3, -0.4])  # min(1, ...) = 1
    params = _params_with_grads([np.array([1.0, -5.0]), np.array([2.0])])
    total = nn.utils.clip_grad_norm_(params, 2.5, norm_type="inf")
    assert total.item() == 5.0
    np.testing.assert_allclose(params[0].grad.numpy(), np.array([1.0, -5.0]) * 2.5 / (5 + 1e-6))


def test_clip_functions_skip_parameters_without_grad_and_accept_one_tensor():
    lone = nn.Parameter(np.zeros(2))
    assert nn.utils.clip_grad_norm_(lone, 1.0).item() == 0.0  # no gradients: norm 0
    lone.grad = ag.tensor([10.0, 0.0])
    nn.utils.clip_grad_value_(lone, 3.0)
    np.testing.assert_array_equal(lone.grad.numpy(), [3.0, 0.0])
    mixed = [nn.Parameter(np.zeros(1)), lone]
    nn.utils.clip_grad_norm_(mixed, 1.5)
    assert mixed[0].grad is None
    np.testing.assert_allclose(lone.grad.numpy(), [1.5 * 3 / (3 + 1e-6), 0.0])


def test_clipping_writes_in_place_and_logs_the_write():
    param = nn.Parameter(np.zeros(3))
    param.grad = ag.tensor([5.0, -5.0, 1.0])
    array, version = param.grad.data, param.grad._version
    nn.utils.clip_grad_value_([param], 2.0)
    assert param.grad.data is array and param.grad._version == version + 1
    np.testing.assert_array_equal(array, [2.0, -2.0, 1.0])
    nn.utils.clip_grad_norm_([param], 1.0)
    assert param.grad.data is array and param.grad._version == version + 2
    readonly = np.ones(2)
    readonly.flags.writeable = False
    param2 = nn.Parameter(np.zeros(2))
    param2.grad = ag.Tensor(readonly)
    nn.utils.clip_grad_value_([param2], 0.5)  # a read-only gradient gets a new array, not an error
    np.testing.assert_array_equal(param2.grad.numpy(), [0.5, 0.5])
    np.testing.assert_array_equal(readonly, [1.0, 1.0])


def test_clip_grad_norm_errors():
    params = _params_with_grads([np.array([np.inf, 1.0])])
    with pytest.raises(RuntimeError, match="total norm of order 2.0 .* is non-finite"):
        nn.utils.clip_grad_norm_(params, 1.0, error_if_nonfinite=True)
    assert math.isinf(nn.utils.clip_grad_norm_(params, 1.0).item())  # without the flag: scaled anyway
    with pytest.raises(ValueError, match="norm_type must be a number or 'inf'"):
        nn.utils.clip_grad_norm_(params, 1.0, norm_type="l2")
    with pytest.raises(TypeError, match="item 0 is a ndarray, not a Tensor"):
        nn.utils.clip_grad_value_([np.ones(2)], 1.0)


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, "inf", 0.5])
@pytest.mark.parametrize("max_norm", [0.1, 1e3])
def test_clip_grad_norm_matches_torch(norm_type, max_norm):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(7)
    grads = [rng.normal(size=(3, 4)), rng.normal(size=5), rng.normal(size=(2, 1, 2))]
    ours = _params_with_grads(grads)
    theirs = [torch.nn.Parameter(torch.zeros(g.shape, dtype=torch.float64)) for g in grads]
    for p, g in zip(theirs, grads):
        p.grad = torch.from_numpy(g.copy())
    ours_total = nn.utils.clip_grad_norm_(ours, max_norm, norm_type=norm_type)
    theirs_total = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type=float(norm_type))
    np.testing.assert_allclose(ours_total.item(), theirs_total.item(), rtol=1e-13)
    for p, q in zip(ours, theirs):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-13, atol=1e-16)
    # the two-step form gives the same
    again = _params_with_grads(grads)
    norm = nn.utils.get_total_norm([p.grad for p in again], norm_type)
    nn.utils.clip_grads_with_norm_(again, max_norm, norm)
    for p, q in zip(again, theirs):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-13, atol=1e-16)


def test_clip_grad_value_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(8)
    grads = [rng.normal(size=(4, 3)) * 3, rng.normal(size=6)]
    ours = _params_with_grads(grads)
    theirs = [torch.nn.Parameter(torch.zeros(g.shape, dtype=torch.float64)) for g in grads]
    for p, g in zip(theirs, grads):
        p.grad = torch.from_numpy(g.copy())
    assert nn.utils.clip_grad_value_(ours, 1.25) is None
    torch.nn.utils.clip_grad_value_(theirs, 1.25)
    for p, q in zip(ours, theirs):
        np.testing.assert_array_equal(p.grad.numpy(), q.grad.numpy())


def test_clipping_a_float32_model_keeps_float32():
    torch = pytest.importorskip("torch")
    grads = [np.array([3.0, 4.0], np.float32) * 1.1]
    ours = _params_with_grads(grads)
    theirs = torch.nn.Parameter(torch.zeros(2))
    theirs.grad = torch.from_numpy(grads[0].copy())
    total = nn.utils.clip_grad_norm_(ours, 0.7)
    theirs_total = torch.nn.utils.clip_grad_norm_([theirs], 0.7)
    assert total.dtype == np.float32 and ours[0].grad.dtype == np.float32
    assert total.item() == theirs_total.item()
    np.testing.assert_allclose(ours[0].grad.numpy(), theirs.grad.numpy(), rtol=1e-7)


def test_parameters_to_vector_and_back():
    model = nn.Sequential(nn.Linear(2, 3), nn.Linear(3, 1))
    vector = nn.utils.parameters_to_vector(model.parameters())
    expected = np.concatenate([p.numpy().ravel() for p in model.parameters()])
    np.testing.assert_array_equal(vector.numpy(), expected)
    nn.utils.vector_to_parameters(ag.tensor(np.arange(13.0)), model.parameters())
    np.testing.assert_array_equal(model[0].weight.numpy(), np.arange(6.0).reshape(3, 2))
    np.testing.assert_array_equal(model[1].bias.numpy(), [12.0])
    with pytest.raises(ValueError, match=r"vec has shape \(4,\) but the parameters hold 13 values"):
        nn.utils.vector_to_parameters(ag.tensor(np.ones(4)), model.parameters())
    with pytest.raises(TypeError, match="expected vec of type Tensor"):
        nn.utils.vector_to_parameters(np.ones(13), model.parameters())
