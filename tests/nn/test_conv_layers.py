"""Convolution, pooling, resampling and channel-dropout layers against PyTorch's, with the same
state_dict: outputs, input gradients and parameter gradients in float64 (rtol 1e-8);
and what holds without PyTorch: gradcheck/gradgradcheck through the layers on small
shapes, PyTorch's default initialisation bounds (derived by hand), reprs and refusals."""

from __future__ import annotations

import math

import numpy as np
import pytest

import autograd_nn as ag
from autograd_nn import nn
from autograd_nn.testing import gradcheck, gradgradcheck

try:
    import torch
except ImportError:  # the parity tests skip; CI installs torch (.ci/run), where a skip fails the run
    torch = None
needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is not installed")

RTOL, ATOL = 1e-8, 1e-12


def _compare(ours, theirs, shape, seed=0, call=lambda layer, x: layer(x)):
    """Load PyTorch's state_dict into ours, run both on one float64 input, backpropagate
    one random cotangent, and compare output, δinput and every parameter's gradient."""
    theirs = theirs.double()
    missing = ours.load_state_dict(theirs.state_dict())
    assert missing.missing_keys == [] and missing.unexpected_keys == []
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape)
    ours_x, torch_x = ag.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ours_z, torch_z = call(ours, ours_x), call(theirs, torch_x)
    if isinstance(torch_z, tuple):  # (values, indices)
        np.testing.assert_array_equal(ours_z[1], torch_z[1].numpy())
        ours_z, torch_z = ours_z[0], torch_z[0]
    np.testing.assert_allclose(ours_z.data, torch_z.detach().numpy(), rtol=RTOL, atol=ATOL)
    cotangent = rng.standard_normal(torch_z.shape)
    ours_z.backward(cotangent)
    torch_z.backward(torch.tensor(cotangent))
    np.testing.assert_allclose(ours_x.grad.data, torch_x.grad.numpy(), rtol=RTOL, atol=ATOL)
    for (name, p), (torch_name, q) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert name == torch_name
        np.testing.assert_allclose(p.grad.data, q.grad.numpy(), rtol=RTOL, atol=ATOL, err_msg=name)
    return ours_z


CONV_CASES = [
    ("Conv1d", (3, 4, 3), {}, (2, 3, 9)),
    ("Conv1d", (4, 6, 3), {"stride": 2, "padding": 1, "dilation": 2, "groups": 2}, (2, 4, 11)),
    ("Conv1d", (2, 3, 4), {"padding": "same", "bias": False}, (3, 2, 7)),
    ("Conv1d", (2, 3, 2), {"padding": "valid"}, (2, 5)),  # unbatched (C, L)
    ("Conv2d", (1, 6, 5), {}, (2, 1, 12, 12)),
    ("Conv2d", (4, 6, (3, 2)), {"stride": (2, 1), "padding": (1, 0), "dilation": (1, 2), "groups": 2}, (2, 4, 9, 8)),
    ("Conv2d", (3, 3, 4), {"padding": "same", "dilation": 2, "groups": 3}, (2, 3, 7, 6)),
    ("Conv2d", (2, 4, 3), {"stride": 3, "padding": 2, "bias": False}, (2, 7, 8)),  # unbatched
    ("ConvTranspose1d", (3, 4, 3), {}, (2, 3, 5)),
    ("ConvTranspose1d", (4, 6, 3), {"stride": 3, "padding": 1, "output_padding": 2, "groups": 2}, (2, 4, 5)),
    ("ConvTranspose2d", (2, 3, 3), {"stride": 2, "padding": 1, "output_padding": 1}, (2, 2, 4, 5)),
    ("ConvTranspose2d", (4, 2, (2, 3)), {"stride": (1, 2), "dilation": (2, 1), "groups": 2, "bias": False}, (2, 4, 3, 4)),
    ("ConvTranspose2d", (3, 2, 3), {"output_padding": 1, "dilation": 2}, (3, 4, 4)),  # unbatched; op < dilation
]


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel lengths")  # PyTorch's own note
@pytest.mark.parametrize(("name", "args", "kwargs", "shape"), CONV_CASES, ids=lambda v: str(v))
@needs_torch
def test_convolution_layers_equal_pytorchs(name, args, kwargs, shape):
    torch.manual_seed(0)
    ours, theirs = getattr(nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
    _compare(ours, theirs, shape)
    assert repr(ours) == repr(theirs)


@needs_torch
def test_conv_transpose_output_size_picks_the_output_padding_as_pytorch():
    torch.manual_seed(1)
    ours, theirs = nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1), torch.nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1)
    for size in [(9, 7), (10, 8), (2, 3, 10, 7)]:
        z = _compare(ours, theirs, (2, 2, 5, 4), call=lambda layer, x, size=size: layer(x, output_size=size))
        assert z.shape[-2:] == tuple(size[-2:])
    with pytest.raises(ValueError, match=r"requested an output size of \(11, 7\), but valid sizes range from 9 to 10"):
        ours(np.zeros((2, 2, 5, 4)), output_size=(11, 7))


POOL_CASES = [
    ("MaxPool1d", (3,), {}, (2, 3, 10)),
    ("MaxPool1d", (3,), {"stride": 2, "padding": 1, "dilation": 2, "ceil_mode": True}, (2, 3, 10)),
    ("MaxPool2d", (2,), {}, (2, 3, 8, 6)),
    ("MaxPool2d", ((3, 2),), {"stride": (2, 1), "padding": (1, 1), "dilation": (1, 2), "ceil_mode": True}, (2, 2, 9, 8)),
    ("MaxPool2d", (3,), {"stride": 2, "return_indices": True}, (2, 3, 9, 7)),
    ("MaxPool2d", (2,), {"padding": 1, "return_indices": True, "ceil_mode": True}, (3, 5, 5)),  # unbatched
    ("AvgPool1d", (3,), {"stride": 2, "padding": 1, "ceil_mode": True}, (2, 3, 10)),
    ("AvgPool1d", (4,), {"stride": 3, "padding": 2, "count_include_pad": False}, (3, 11)),
    ("AvgPool2d", (2,), {}, (2, 3, 8, 6)),
    ("AvgPool2d", (3,), {"stride": 2, "padding": 1, "ceil_mode": True, "count_include_pad": False}, (2, 2, 8, 9)),
    ("AvgPool2d", ((3, 2),), {"stride": (2, 3), "padding": (1, 1), "divisor_override": 5}, (2, 2, 7, 8)),
    ("AdaptiveAvgPool1d", (4,), {}, (2, 3, 10)),
    ("AdaptiveAvgPool2d", ((3, 4),), {}, (2, 3, 8, 9)),
    ("AdaptiveAvgPool2d", (1,), {}, (2, 3, 5, 7)),
    ("AdaptiveAvgPool2d", ((None, 5),), {}, (2, 3, 4, 7)),
    ("AdaptiveAvgPool2d", ((6, 4),), {}, (2, 3, 4, 2)),  # larger than the input: windows repeat
    ("AdaptiveMaxPool2d", ((3, 2),), {}, (2, 3, 8, 7)),
    ("AdaptiveMaxPool2d", ((4, 5),), {"return_indices": True}, (2, 3, 7, 6)),
]


@pytest.mark.parametrize(("name", "args", "kwargs", "shape"), POOL_CASES, ids=lambda v: str(v))
@needs_torch
def test_pooling_layers_equal_pytorchs(name, args, kwargs, shape):
    ours, theirs = getattr(nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
    _compare(ours, theirs, shape)
    assert repr(ours) == repr(theirs)


RESAMPLE_CASES = [
    ("Upsample", (), {"scale_factor": 2}, (2, 3, 4, 5)),
    ("Upsample", (), {"size": (7, 4), "mode": "bilinear"}, (2, 3, 4, 5)),
    ("Upsample", (), {"scale_factor": (1.5, 2), "mode": "bilinear", "align_corners": True}, (2, 2, 4, 3)),
    ("Upsample", (), {"scale_factor": 2.5, "mode": "linear", "recompute_scale_factor": True}, (2, 3, 5)),
    ("Upsample", (), {"size": (3, 2), "mode": "area"}, (2, 3, 7, 5)),
    ("UpsamplingNearest2d", (), {"size": 9}, (2, 1, 4, 5)),
    ("UpsamplingBilinear2d", (), {"scale_factor": 2}, (2, 2, 3, 4)),
    ("PixelShuffle", (2,), {}, (2, 8, 3, 4)),
    ("PixelShuffle", (3,), {}, (9, 2, 3)),  # unbatched
    ("PixelUnshuffle", (2,), {}, (2, 3, 4, 6)),
]


@needs_torch
@pytest.mark.parametrize(("name", "args", "kwargs", "shape"), RESAMPLE_CASES, ids=lambda v: str(v))
def test_resampling_layers_equal_pytorchs(name, args, kwargs, shape):
    ours, theirs = getattr(nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
    _compare(ours, theirs, shape)
    assert repr(ours) == repr(theirs)


@needs_torch
def test_a_pytorch_cnn_state_dict_loads_unchanged_and_computes_the_same():
    torch.manual_seed(2)
    theirs = torch.nn.Sequential(
        torch.nn.Conv2d(1, 4, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(4, 6, 3), torch.nn.ReLU(), torch.nn.AdaptiveAvgPool2d(1),
    )  # fmt: skip
    ours = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(4, 6, 3), nn.ReLU(),
                         nn.AdaptiveAvgPool2d(1))  # fmt: skip
    assert {k: tuple(v.shape) for k, v in ours.state_dict().items()} == {
        k: tuple(v.shape) for k, v in theirs.state_dict().items()
    }
    _compare(ours, theirs, (3, 1, 8, 8))


# ------------------------------------------------------------------- without PyTorch
@pytest.mark.parametrize(
    "layer",
    [
        lambda: nn.Conv1d(2, 2, 2, stride=2, padding=1, groups=2),
        lambda: nn.Conv2d(1, 2, (2, 1), padding="same", dilation=(2, 1)),
        lambda: nn.ConvTranspose2d(2, 1, 2, stride=2, output_padding=1),
        lambda: nn.ConvTranspose1d(1, 2, 3, dilation=2, padding=1),
    ],
    ids=["Conv1d", "Conv2d", "ConvTranspose2d", "ConvTranspose1d"],
)
def test_gradcheck_and_gradgradcheck_through_convolution_layers(layer):
    module = layer()
    dims = module.dims
    x = ag.tensor(np.random.default_rng(3).standard_normal((1, module.in_channels) + (3,) * dims), requires_grad=True)

    def run(x, weight, bias):  # the layer's own parameters are these inputs: checked in place
        return module(x)

    assert gradcheck(run, [x, module.weight, module.bias])
    assert gradgradcheck(run, [x, module.weight, module.bias])


def test_default_initialisation_is_pytorchs_bound_one_over_root_fan_in():
    # kaiming_uniform_(a=√5): gain √(2/(1 + 5)), bound gain·√(3/fan_in) = 1/√fan_in; the bias the same
    nn.init.manual_seed(0)
    for layer, fan_in in [
        (nn.Conv2d(6, 16, 5), 6 * 25),
        (nn.Conv1d(4, 8, 3, groups=2), 2 * 3),
        (nn.ConvTranspose2d(6, 4, 3, groups=2), 2 * 9),  # fan_in from W (in, out/groups, k): out/groups·k
    ]:
        bound = 1 / math.sqrt(fan_in)
        for p in (layer.weight, layer.bias):
            assert np.abs(p.data).max() <= bound
            assert np.abs(p.data).max() > 0.8 * bound  # drawn across the interval, not a narrower one
        assert layer.weight.dtype == np.float64


def test_a_layer_refuses_input_of_another_dtype_naming_itself_and_both_dtypes():
    layer = nn.Conv2d(1, 2, 3, dtype=np.float32)
    with pytest.raises(TypeError, match=r"Conv2d\(1, 2, kernel_size=\(3, 3\).*input has dtype float64 but the layer's parameters are float32"):
        layer(np.zeros((1, 1, 5, 5)))
    assert layer(np.zeros((1, 1, 5, 5), dtype=np.float32)).dtype == np.float32
    with pytest.raises(TypeError, match=r"ConvTranspose1d.*input has dtype float32 but the layer's parameters are float64"):
        nn.ConvTranspose1d(1, 1, 2)(np.zeros((1, 1, 4), dtype=np.float32))


def test_a_layer_refuses_input_with_the_wrong_channels_or_rank():
    layer = nn.Conv2d(3, 2, 3)
    with pytest.raises(ValueError, match=r"input has shape \(1, 2, 5, 5\); expected \(N, 3, \*spatial\)"):
        layer(np.zeros((1, 2, 5, 5)))
    with pytest.raises(ValueError, match=r"input has shape \(5, 5\)"):
        layer(np.zeros((5, 5)))


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: nn.Conv2d(3, 4, 3, groups=2), r"in_channels \(3\) and out_channels \(4\) must be divisible by groups \(2\)"),
        (lambda: nn.Conv2d(2, 2, 3, padding="same", stride=2), "padding='same' is not supported for strided"),
        (lambda: nn.Conv2d(2, 2, 3, padding="full"), "padding must be 'same', 'valid', an int or a tuple of ints"),
        (lambda: nn.ConvTranspose2d(2, 2, 3, padding="same"), "padding must be an int or a tuple of ints"),
        (lambda: nn.Conv1d(2, 2, 3, padding_mode="reflect"), "padding_mode='reflect' is not supported; only 'zeros'"),
        (lambda: nn.Conv1d(2, 2, 3, padding_mode="mirror"), "padding_mode must be one of"),
        (lambda: nn.Conv2d(2, 2, (3, 0)), r"kernel_size must be an int ≥ 1 or a tuple of 2 such ints, got \(3, 0\)"),
        (lambda: nn.Conv2d(2, 2, 3, device="cuda"), "on the CPU with numpy; device must be None or 'cpu', got 'cuda'"),
        (lambda: nn.Conv2d(2, 2, 3, dtype=np.int32), "only floating-point dtypes are supported"),
    ],
)
def test_convolution_layers_refuse_bad_arguments(build, message):
    with pytest.raises((ValueError, TypeError), match=message):
        build()


def test_dropout2d_zeroes_whole_channels_in_training_and_is_the_identity_in_eval():
    x = ag.tensor(np.ones((8, 16, 3, 3)), requires_grad=True)
    layer = nn.Dropout2d(0.25, generator=np.random.default_rng(0))
    z = layer(x)
    per_channel = z.data.reshape(8, 16, 9)
    assert np.all(per_channel.min(axis=2) == per_channel.max(axis=2))  # one decision per channel
    assert set(np.unique(per_channel)) == {0.0, 1 / 0.75}
    assert 0.1 < np.mean(per_channel == 0) < 0.4
    z.sum().backward()
    np.testing.assert_array_equal(x.grad.data, z.data)  # δx = mask / (1 − p)
    layer.eval()
    assert layer(x) is x or np.array_equal(layer(x).data, x.data)
    assert repr(layer) == "Dropout2d(p=0.25, inplace=False)"
    with pytest.raises(ValueError, match=r"Dropout2d: p must be a probability in \[0, 1\], got 1.5"):
        nn.Dropout2d(1.5)


def test_pooling_layers_keep_pytorchs_attributes_and_refuse_what_pytorch_refuses():
    assert repr(nn.AvgPool1d(3)) == "AvgPool1d(kernel_size=(3,), stride=(3,), padding=(0,))"  # 1-tuples, as PyTorch
    assert repr(nn.AvgPool2d(3, padding=1)) == "AvgPool2d(kernel_size=3, stride=3, padding=1)"
    assert nn.MaxPool1d(2, stride=1).stride == 1 and nn.MaxPool2d(3).stride == 3
    assert repr(nn.AdaptiveAvgPool1d(4)) == "AdaptiveAvgPool1d(output_size=4)"
    signal = np.arange(6.0).reshape(1, 1, 6)
    np.testing.assert_array_equal(nn.MaxPool1d(2)(signal).data, [[[1.0, 3.0, 5.0]]])
    np.testing.assert_array_equal(nn.AvgPool1d(2)(signal).data, [[[0.5, 2.5, 4.5]]])
    np.testing.assert_array_equal(nn.AdaptiveAvgPool1d(2)(signal).data, [[[1.0, 4.0]]])
    z, index = nn.AdaptiveMaxPool2d(1, return_indices=True)(np.array([[[[1.0, 7.0], [3.0, 2.0]]]]))
    assert z.data.item() == 7.0 and index.item() == 1 and index.dtype == np.int64
    np.testing.assert_array_equal(nn.AvgPool2d(2, divisor_override=1)(np.ones((1, 1, 2, 2))).data, [[[[4.0]]]])
    with pytest.raises(ValueError, match=r"max_pool2d: padding \(2, 2\) must be at most half the kernel size \(3, 3\)"):
        nn.MaxPool2d(3, padding=2)(np.zeros((1, 1, 8, 8)))
    with pytest.raises(ValueError, match=r"avg_pool1d: input of spatial shape \(2,\) padded by \(0,\) is smaller"):
        nn.AvgPool1d(3)(np.zeros((1, 1, 2)))
    with pytest.raises(ValueError, match=r"max_pool1d: input must have shape \(N, C, \*spatial\) or \(C, \*spatial\)"):
        nn.MaxPool1d(2)(np.zeros(4))


def test_pixel_unshuffle_inverts_pixel_shuffle_and_upsample_refuses_what_interpolate_refuses():
    x = ag.tensor(np.arange(2 * 8 * 3 * 4, dtype=np.float64).reshape(2, 8, 3, 4))
    shuffled = nn.PixelShuffle(2)(x)
    assert shuffled.shape == (2, 2, 6, 8)
    assert shuffled.data[0, 1, 3, 5] == x.data[0, 1 * 4 + 1 * 2 + 1, 1, 2]  # z[c, h·r + i, w·r + j] = x[c·r² + i·r + j, h, w]
    np.testing.assert_array_equal(nn.PixelUnshuffle(2)(shuffled).data, x.data)
    with pytest.raises(ValueError, match=r"pixel_unshuffle: input must have shape \(\*, C, H·2, W·2\).*got \(2, 8, 3, 4\)"):
        nn.PixelUnshuffle(2)(x)
    with pytest.raises(ValueError, match="interpolate: give exactly one of size and scale_factor"):
        nn.Upsample()(x)
    with pytest.raises(ValueError, match="interpolate: mode 'bilinear' needs a 4-D input"):
        nn.Upsample(scale_factor=2, mode="bilinear")(ag.tensor(np.zeros((1, 2, 3))))


def test_convolution_layers_take_the_default_dtype_unless_given_one():
    ag.set_default_dtype(np.float32)
    try:
        layers = [nn.Conv2d(1, 2, 3), nn.ConvTranspose1d(2, 1, 2), nn.Conv1d(1, 1, 1, dtype=np.float64)]
    finally:
        ag.set_default_dtype(np.float64)
    assert [(m.weight.dtype, m.bias.dtype) for m in layers] == [(np.float32, np.float32)] * 2 + [(np.float64,) * 2]
    assert nn.Conv2d(1, 2, 3).weight.dtype == np.float64
