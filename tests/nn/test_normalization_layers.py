"""Normalisation layers against PyTorch (same state_dict, float64, rtol 1e-8): outputs, input
and parameter gradients; BatchNorm's running statistics through train and eval steps."""

from __future__ import annotations

import numpy as np
import pytest
from parity import assert_close, compare, torch_module

import autograd_nn as ag
from autograd_nn import functional as F
from autograd_nn import nn
from autograd_nn.testing import gradcheck, gradgradcheck

RNG = np.random.default_rng(20240611)


def randomised(module, torch_module_):
    """Random affine parameters (PyTorch initialises them to ones and zeros), the same in both."""
    torch = torch_module()
    with torch.no_grad():
        for p in torch_module_.parameters():
            p.copy_(torch.tensor(RNG.standard_normal(tuple(p.shape))))
    return module, torch_module_


@pytest.mark.parametrize(
    "shape, normalized, kwargs",
    [((4, 6), 6, {}), ((2, 3, 4), (3, 4), {"eps": 1e-3}), ((3, 5), 5, {"bias": False}),
     ((3, 5), (5,), {"elementwise_affine": False})],
)  # fmt: skip
def test_layer_norm_matches_pytorch(shape, normalized, kwargs):
    torch = torch_module()
    ours, theirs = randomised(nn.LayerNorm(normalized, **kwargs), torch.nn.LayerNorm(normalized, dtype=torch.float64, **kwargs))
    compare(ours, theirs, [RNG.normal(2.0, 3.0, shape)])
    assert repr(ours) == repr(theirs)


@pytest.mark.parametrize("shape, groups, affine", [((4, 6, 5), 3, True), ((2, 4, 3, 3), 2, True), ((3, 4), 4, False)])
def test_group_norm_matches_pytorch(shape, groups, affine):
    torch = torch_module()
    channels = shape[1]
    ours = nn.GroupNorm(groups, channels, affine=affine)
    theirs = torch.nn.GroupNorm(groups, channels, affine=affine, dtype=torch.float64)
    compare(*randomised(ours, theirs), [RNG.standard_normal(shape)])
    assert repr(ours) == repr(theirs)


@pytest.mark.parametrize("normalized, eps", [(5, None), ((2, 5), 1e-6)])
def test_rms_norm_matches_pytorch(normalized, eps):
    torch = torch_module()
    ours, theirs = randomised(nn.RMSNorm(normalized, eps=eps), torch.nn.RMSNorm(normalized, eps=eps, dtype=torch.float64))
    compare(ours, theirs, [RNG.standard_normal((3, 2, 5))])
    assert repr(ours) == repr(theirs)


@pytest.mark.parametrize("cls, shape", [("BatchNorm1d", (8, 3)), ("BatchNorm1d", (6, 3, 4)), ("BatchNorm2d", (5, 3, 4, 2))])
@pytest.mark.parametrize("momentum", [0.1, None])
def test_batch_norm_train_and_eval_steps_match_pytorch(cls, shape, momentum):
    torch = torch_module()
    ours, theirs = randomised(getattr(nn, cls)(3, momentum=momentum), getattr(torch.nn, cls)(3, momentum=momentum, dtype=torch.float64))
    ours.load_state_dict(theirs.state_dict())
    for step in range(4):  # training steps: batch statistics, running averages updated
        compare(ours, theirs, [RNG.normal(1.0, 2.0, shape)], seed=step, load=False)
        for name, buffer in theirs.named_buffers():
            assert_close(dict(ours.named_buffers())[name], buffer, name)
    assert ours.num_batches_tracked.item() == 4 and ours.num_batches_tracked.dtype == np.int64
    ours.eval()
    theirs.eval()
    for p, q in zip(ours.parameters(), theirs.parameters()):
        p.grad, q.grad = None, None
    out, _ = compare(ours, theirs, [RNG.normal(1.0, 2.0, shape)], load=False)  # eval: the running statistics
    assert ours.num_batches_tracked.item() == 4
    assert repr(ours) == repr(theirs)


def test_batch_norm_eval_output_of_a_sample_does_not_depend_on_its_batch():
    bn = nn.BatchNorm1d(2)
    for _ in range(3):
        bn(RNG.normal(3.0, 2.0, (16, 2)))
    sample = RNG.standard_normal((1, 2))
    batch = np.concatenate([sample, RNG.standard_normal((7, 2)) * 10])
    train_alone, train_in_batch = bn(np.repeat(sample, 2, axis=0)).data[0], bn(batch).data[0]
    assert not np.allclose(train_alone, train_in_batch)  # training: batch statistics
    bn.eval()
    running = bn.running_mean.data.copy()
    np.testing.assert_allclose(bn(sample).data[0], bn(batch).data[0], rtol=1e-12)
    expected = (sample[0] - running) / np.sqrt(bn.running_var.data + bn.eps)
    np.testing.assert_allclose(bn(sample).data[0], expected, rtol=1e-12)
    np.testing.assert_array_equal(bn.running_mean.data, running)  # eval never updates them


@pytest.mark.parametrize("affine, track", [(False, True), (True, False), (False, False)])
def test_batch_norm_options_match_pytorch(affine, track):
    torch = torch_module()
    ours = nn.BatchNorm2d(3, affine=affine, track_running_stats=track)
    theirs = torch.nn.BatchNorm2d(3, affine=affine, track_running_stats=track, dtype=torch.float64)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for mode in ("train", "eval"):  # without running statistics, eval uses the batch's too
        getattr(ours, mode)()
        getattr(theirs, mode)()
        compare(ours, theirs, [RNG.standard_normal((4, 3, 2, 2))], load=mode == "train")


def test_batch_norm_modules_refuse_inputs_of_the_wrong_rank_and_single_values():
    with pytest.raises(ValueError, match=r"BatchNorm1d: expected 2D or 3D input \(got 4D input\)"):
        nn.BatchNorm1d(3)(np.zeros((2, 3, 4, 4)))
    with pytest.raises(ValueError, match=r"BatchNorm2d: expected 4D input \(got 2D input\)"):
        nn.BatchNorm2d(3)(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="expected more than 1 value per channel when training"):
        nn.BatchNorm1d(3)(np.zeros((1, 3)))
    with pytest.raises(ValueError, match="num_channels \\(5\\) must be divisible by num_groups \\(2\\)"):
        nn.GroupNorm(2, 5)
    with pytest.raises(ValueError, match=r"layer_norm: given normalized_shape=\[4\], expected input with shape \[\*, 4\]"):
        nn.LayerNorm(4)(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="device must be None or 'cpu'"):
        nn.LayerNorm(4, device="cuda")


def test_functional_forms_match_pytorch():
    torch = torch_module()
    TF = torch.nn.functional
    x = RNG.standard_normal((4, 3, 5))
    w, b = RNG.standard_normal(3), RNG.standard_normal(3)
    t = torch.tensor(x)
    assert_close(F.instance_norm(x, weight=w, bias=b), TF.instance_norm(t, weight=torch.tensor(w), bias=torch.tensor(b)), "instance_norm")
    ours_rm, ours_rv = np.zeros(3), np.ones(3)
    theirs_rm, theirs_rv = torch.zeros(3, dtype=torch.float64), torch.ones(3, dtype=torch.float64)
    for _ in range(3):
        F.instance_norm(x, ours_rm, ours_rv, momentum=0.3)
        TF.instance_norm(t, theirs_rm, theirs_rv, momentum=0.3)
    assert_close(ours_rm, theirs_rm, "running_mean")
    assert_close(ours_rv, theirs_rv, "running_var")
    assert_close(F.instance_norm(x, ours_rm, ours_rv, use_input_stats=False),
                 TF.instance_norm(t, theirs_rm, theirs_rv, use_input_stats=False), "instance_norm (running)")  # fmt: skip
    for p, dim in ((2.0, 1), (1.0, -1), (3.0, 0), (float("inf"), 2)):
        assert_close(F.normalize(x, p, dim), TF.normalize(t, p, dim), f"normalize p={p}")
    assert_close(F.layer_norm(x, (5,), bias=RNG.standard_normal(5)).data.mean(axis=-1).std(), 0.0, "layer_norm bias only", atol=2.0)


def test_normalize_of_a_zero_vector_is_zero_with_a_zero_gradient():
    torch = torch_module()
    x = np.array([[0.0, 0.0], [3.0, 4.0]])
    ours = ag.tensor(x, requires_grad=True)
    theirs = torch.tensor(x, requires_grad=True)
    F.normalize(ours, dim=1).sum().backward()
    torch.nn.functional.normalize(theirs, dim=1).sum().backward()
    np.testing.assert_array_equal(F.normalize(x, dim=1).data[0], [0.0, 0.0])
    assert_close(ours.grad, theirs.grad, "δx")
    assert np.isfinite(ours.grad.data).all()


def test_normalisation_layers_pass_gradcheck_and_gradgradcheck_on_small_shapes():
    x = ag.tensor(RNG.standard_normal((3, 2, 2)), requires_grad=True)
    layers = [nn.LayerNorm(2), nn.GroupNorm(1, 2), nn.RMSNorm(2, eps=0.1), nn.BatchNorm1d(2)]
    for layer in layers:
        for p in layer.parameters():
            p.data[...] = RNG.standard_normal(p.shape)
        inputs = [x] + list(layer.parameters())
        fn = lambda x, *params, layer=layer: layer(x)  # noqa: E731 - the parameters are the layer's own
        assert gradcheck(fn, inputs) and gradgradcheck(fn, inputs), type(layer).__name__


def test_batch_norm_resets_its_statistics_and_parameters():
    bn = nn.BatchNorm2d(2)
    for _ in range(3):
        bn(RNG.normal(4.0, 3.0, (4, 2, 3, 3)))
    bn.weight.data[...] = 5.0
    bn.reset_running_stats()
    assert np.all(bn.running_mean.data == 0) and np.all(bn.running_var.data == 1)
    assert bn.num_batches_tracked.item() == 0 and np.all(bn.weight.data == 5.0)
    bn.reset_parameters()
    assert np.all(bn.weight.data == 1) and np.all(bn.bias.data == 0)
    no_bias = nn.BatchNorm1d(2, bias=False)
    assert no_bias.bias is None and list(no_bias.state_dict())[:1] == ["weight"]
