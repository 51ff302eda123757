"""The functional convolution, pooling and resampling ops beyond what the shared property
test draws: PyTorch parity of the functions themselves (float64, rtol 1e-8), second
derivatives through a small CNN, the memory layout the GEMM writes, and refusals."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import autograd_nn as ag
from autograd_nn import functional as F
from autograd_nn.testing import gradcheck, gradgradcheck

try:
    import torch
except ImportError:  # the parity tests skip; CI installs torch (.ci/run), where a skip fails the run
    torch = None
needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is not installed")
T = torch.nn.functional if torch is not None else None
RTOL, ATOL = 1e-8, 1e-12


def _parity(ours, theirs, *arrays, **kwargs):
    """Values and the gradient of every array input for one random cotangent."""
    rng = np.random.default_rng(0)
    mine = [ag.tensor(a, requires_grad=True) for a in arrays]
    yours = [torch.tensor(a, requires_grad=True) for a in arrays]
    z, t = ours(*mine, **kwargs), theirs(*yours, **kwargs)
    np.testing.assert_allclose(z.data, t.detach().numpy(), rtol=RTOL, atol=ATOL)
    v = rng.standard_normal(t.shape)
    z.backward(v)
    t.backward(torch.tensor(v))
    for a, b in zip(mine, yours):
        np.testing.assert_allclose(a.grad.data, b.grad.numpy(), rtol=RTOL, atol=ATOL)


def _random(*shape, seed=1):
    return np.random.default_rng(seed).standard_normal(shape)


@pytest.mark.parametrize(
    "kwargs",
    [{"kernel_size": 3}, {"kernel_size": (2, 3), "dilation": (2, 1), "padding": 1, "stride": (2, 1)}],
)
@needs_torch
def test_unfold_and_fold_equal_pytorchs(kwargs):
    _parity(F.unfold, T.unfold, _random(2, 3, 7, 6), **kwargs)
    columns = T.unfold(torch.tensor(_random(2, 3, 7, 6)), **kwargs).numpy()
    _parity(F.fold, T.fold, columns, output_size=(7, 6), **kwargs)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"size": (9, 4)}, {"scale_factor": 2}, {"scale_factor": 1.7}, {"scale_factor": 0.3},
        {"size": (3, 11), "mode": "bilinear"}, {"size": (8, 3), "mode": "bilinear", "align_corners": True},
        {"scale_factor": (1.3, 2.6), "mode": "bilinear"},
        {"scale_factor": (1.3, 2.6), "mode": "bilinear", "recompute_scale_factor": True},
        {"size": (2, 3), "mode": "area"}, {"size": (1, 1), "mode": "bilinear", "align_corners": True},
    ],
)  # fmt: skip
@needs_torch
def test_interpolate_2d_equals_pytorchs(kwargs):
    _parity(F.interpolate, T.interpolate, _random(2, 3, 5, 7), **kwargs)


@pytest.mark.parametrize(
    "kwargs", [{"size": 13, "mode": "linear"}, {"size": 4, "mode": "linear", "align_corners": True}, {"scale_factor": 2.5}]
)
@needs_torch
def test_interpolate_1d_equals_pytorchs(kwargs):
    _parity(F.interpolate, T.interpolate, _random(2, 3, 6), **kwargs)


@needs_torch
def test_pixel_shuffle_unshuffle_and_dropout2d_in_eval_equal_pytorchs():
    _parity(F.pixel_shuffle, T.pixel_shuffle, _random(2, 12, 3, 4), upscale_factor=2)
    _parity(F.pixel_shuffle, T.pixel_shuffle, _random(18, 2, 2), upscale_factor=3)
    _parity(F.pixel_unshuffle, T.pixel_unshuffle, _random(2, 3, 4, 6), downscale_factor=2)
    _parity(F.pixel_unshuffle, T.pixel_unshuffle, _random(2, 6, 9), downscale_factor=3)
    _parity(F.dropout2d, T.dropout2d, _random(2, 3, 4, 4), p=0.5, training=False)


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel lengths")  # PyTorch's own note
@needs_torch
def test_functional_convolutions_equal_pytorchs_including_valid_and_same():
    x, w, b = _random(2, 4, 7, 6), _random(6, 2, 3, 2, seed=2), _random(6, seed=3)
    for kwargs in [{}, {"padding": "valid"}, {"padding": "same", "dilation": (2, 1)}, {"stride": 2, "padding": 1}]:
        _parity(F.conv2d, T.conv2d, x, w, b, groups=2, **kwargs)
    _parity(F.conv1d, T.conv1d, _random(2, 3, 8), _random(4, 3, 3, seed=2), stride=2, padding="valid")
    wt = _random(4, 3, 3, 2, seed=4)
    _parity(F.conv_transpose2d, T.conv_transpose2d, _random(2, 4, 3, 5), wt, stride=2, padding=1, output_padding=1)
    _parity(F.conv_transpose1d, T.conv_transpose1d, _random(2, 4, 5), _random(4, 1, 3, seed=5), groups=2, dilation=3)


@needs_torch
def test_max_pool_indices_are_pytorchs_flat_plane_indices_and_ties_go_to_the_first():
    x = np.array([[[[1.0, 5.0, 5.0], [5.0, 0.0, 2.0], [3.0, 4.0, 4.0]]]])
    z, index = F.max_pool2d(x, 2, stride=1, return_indices=True)
    t, t_index = T.max_pool2d(torch.tensor(x), 2, stride=1, return_indices=True)
    np.testing.assert_array_equal(index, t_index.numpy())
    np.testing.assert_array_equal(z.data, t.numpy())
    np.testing.assert_array_equal(index, [[[[1, 1], [3, 7]]]])  # the first maximum of each window, in C order


@needs_torch
def test_a_nan_wins_its_pooling_window_as_in_pytorch():
    x = np.array([[[[1.0, np.nan, 3.0, 2.0], [np.nan, 0.0, 1.0, 5.0]]]])
    z, index = F.max_pool2d(x, 2, return_indices=True)
    t, t_index = T.max_pool2d(torch.tensor(x), 2, return_indices=True)
    np.testing.assert_array_equal(z.data, t.numpy())  # nan where a window holds one
    np.testing.assert_array_equal(index, t_index.numpy())  # the last nan, as PyTorch's scan leaves it
    pooled_input = ag.tensor(x, requires_grad=True)
    F.max_pool2d(pooled_input, 2).sum().backward()
    expected = torch.tensor(x, requires_grad=True)
    T.max_pool2d(expected, 2).sum().backward()
    np.testing.assert_array_equal(pooled_input.grad.data, expected.grad.numpy())


def test_second_derivatives_through_a_small_cnn():
    rng = np.random.default_rng(4)
    x = ag.tensor(rng.standard_normal((1, 1, 6, 6)), requires_grad=True)
    w1 = ag.tensor(rng.standard_normal((2, 1, 3, 3)), requires_grad=True)
    w2 = ag.tensor(rng.standard_normal((2, 2, 2, 2)), requires_grad=True)

    def cnn(x, w1, w2):
        h = F.conv2d(x, w1, padding=1).tanh()
        h = F.avg_pool2d(F.max_pool2d(h, 2), 1)
        return F.adaptive_avg_pool2d(F.conv_transpose2d(h, w2, stride=2), 2)

    assert gradcheck(cnn, [x, w1, w2])
    assert gradgradcheck(cnn, [x, w1, w2])


def test_the_convolution_writes_batch_last_so_its_gradient_needs_no_copy():
    z = F.conv2d(ag.tensor(_random(4, 3, 6, 6)), _random(5, 3, 3, 3))
    assert z.shape == (4, 5, 4, 4)
    assert np.moveaxis(z.data, 0, -1).flags.c_contiguous  # (C_out, H, W, N) in memory: the GEMM's output
    pooled = F.max_pool2d(F.relu(z), 2)  # elementwise ops and pooling keep that layout
    assert np.moveaxis(pooled.data, 0, -1).flags.c_contiguous


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: F.conv2d(np.zeros((1, 3, 5, 5)), np.zeros((2, 2, 3, 3))), ValueError,
         r"conv2d: input of shape \(1, 3, 5, 5\) has 3 channels; weight of shape \(2, 2, 3, 3\) with groups=1 expects 2"),
        (lambda: F.conv2d(np.zeros((1, 2, 5, 5), np.float32), np.zeros((2, 2, 3, 3))), TypeError,
         "conv2d: input float32, weight float64: they must have the same dtype"),
        (lambda: F.conv2d(np.zeros((1, 2, 2, 2)), np.zeros((2, 2, 3, 3))), ValueError,
         r"conv2d: the padded input of spatial shape \(2, 2\) is smaller than the \(dilated\) kernel \(3, 3\)"),
        (lambda: F.conv2d(np.zeros((1, 2, 5, 5)), np.zeros((2, 2, 3, 3)), stride=2, padding="same"), ValueError,
         "padding='same' is not supported for strided convolutions"),
        (lambda: F.conv1d(np.zeros((1, 2, 5)), np.zeros((2, 2, 3)), padding="full"), ValueError,
         "conv1d: padding must be 'valid', 'same', an int or a tuple of ints"),
        (lambda: F.conv1d(np.zeros((1, 2, 5)), np.zeros((2, 2, 3)), np.zeros(3)), ValueError,
         r"conv1d: bias must have shape \(2,\), got \(3,\)"),
        (lambda: F.conv2d(np.zeros((1, 4, 5, 5)), np.zeros((3, 2, 3, 3)), groups=2), ValueError,
         r"3 channels do not divide into 2 groups"),
        (lambda: F.conv_transpose2d(np.zeros((1, 2, 3, 3)), np.zeros((2, 1, 3, 3)), stride=2, output_padding=2),
         ValueError, r"output_padding \(2, 2\) must be smaller than stride \(2, 2\) or dilation \(1, 1\)"),
        (lambda: F.conv2d(np.zeros((1, 2, 5, 5)), np.zeros((2, 2, 3))), ValueError,
         r"conv2d: weight must have 4 dimensions"),
        (lambda: F.unfold(np.zeros((2, 3, 4)), 2), ValueError, r"unfold: input must have shape \(N, C, H, W\)"),
        (lambda: F.fold(np.zeros((1, 8, 5)), (3, 3), 2), ValueError, r"fold: input must have shape \(N, C·4, 4\)"),
        (lambda: F.interpolate(np.zeros((1, 1, 4)), size=3, mode="bilinear"), ValueError,
         "mode 'bilinear' needs a 4-D input"),
        (lambda: F.interpolate(np.zeros((1, 1, 4, 4)), size=3, scale_factor=2), ValueError,
         "give exactly one of size and scale_factor"),
        (lambda: F.interpolate(np.zeros((1, 1, 4, 4)), size=3, align_corners=True), ValueError,
         "align_corners can only be set with the interpolating modes"),
        (lambda: F.pixel_shuffle(np.zeros((1, 6, 2, 2)), 2), ValueError,
         r"pixel_shuffle: input must have shape \(\*, C·4, H, W\) for upscale_factor 2"),
        (lambda: F.dropout2d(np.zeros((2, 3)), 0.5), ValueError, r"dropout2d: input must have shape \(N, C, H, W\)"),
        (lambda: F.avg_pool2d(np.zeros((1, 1, 4, 4)), 2, divisor_override=0), ValueError,
         "divisor_override must be a positive int"),
        (lambda: F.adaptive_avg_pool2d(np.zeros((1, 1, 4, 4)), (2, 2, 2)), ValueError,
         "output_size must be an int or a tuple of 2"),
    ],
)  # fmt: skip
def test_bad_arguments_are_refused_with_a_message_naming_the_op(call, error, message):
    with pytest.raises(error, match=message):
        call()


@needs_torch
def test_scratch_columns_never_leak_into_what_an_op_returns():
    # im2col writes into a per-thread buffer that the next convolution overwrites: nothing
    # a user holds (an unfold's columns, a gradient) may be a view of it.
    x = _random(2, 3, 6, 6)
    columns = F.unfold(x, 3)
    kept = columns.data.copy()
    F.conv2d(ag.tensor(_random(2, 3, 5, 5, seed=5)), _random(4, 3, 3, 3))  # fewer columns: the same buffer, rewritten
    np.testing.assert_array_equal(columns.data, kept)
    w = ag.tensor(_random(4, 3, 3, 3), requires_grad=True)
    F.conv2d(ag.tensor(x), w).sum().backward()
    first = w.grad.data.copy()
    F.conv2d(ag.tensor(_random(2, 3, 5, 5, seed=6)), _random(4, 3, 3, 3)).sum()
    np.testing.assert_array_equal(w.grad.data, first)
    expected = T.conv2d(torch.tensor(x), torch.ones(4, 3, 3, 3, dtype=torch.float64)).sum().item()
    assert np.isclose(F.conv2d(ag.tensor(x), np.ones((4, 3, 3, 3))).sum().item(), expected)


@needs_torch
def test_convolutions_in_threads_do_not_share_a_scratch_buffer():
    from concurrent.futures import ThreadPoolExecutor

    # columns of a few MB: numpy releases the GIL while it copies them and multiplies, so
    # threads sharing one buffer would overwrite each other's columns mid-product
    cases = [(_random(8, 4, 40, 40, seed=s), _random(6, 4, 3, 3, seed=s + 10)) for s in range(4)]
    expected = [T.conv2d(torch.tensor(x), torch.tensor(w)).numpy() for x, w in cases]
    barrier = threading.Barrier(len(cases))

    def run(case):
        x, w = case
        barrier.wait()
        return [F.conv2d(ag.tensor(x), w).data.copy() for _ in range(10)]

    with ThreadPoolExecutor(len(cases)) as pool:
        for results, want in zip(pool.map(run, cases), expected):
            for got in results:
                np.testing.assert_allclose(got, want, rtol=RTOL, atol=ATOL)
