"""``conv1d``, ``conv2d``, ``conv_transpose1d``, ``conv_transpose2d``: PyTorch's functional
convolutions, as front ends that check and normalise their arguments and call the
primitives of ``conv`` (one node per call, bias included)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..registry import register_composite
from . import _draw, _naive
from ._windows import Ints, Pairs, check_window, per_axis
from .conv import Convolution, ConvolutionTranspose


def conv_padding(padding: Any, kernel: Ints, stride: Ints, dilation: Ints, op: str) -> Pairs:
    """(before, after) per axis from an int, a tuple, "valid" (none) or "same" (the output
    keeps the input's size; an odd total puts the extra element after, as PyTorch)."""
    if padding == "valid":
        return tuple((0, 0) for _ in kernel)
    if padding == "same":
        if any(s != 1 for s in stride):
            raise ValueError(f"{op}: padding='same' is not supported for strided convolutions (stride={stride})")
        totals = [d * (k - 1) for k, d in zip(kernel, dilation)]
        return tuple((t // 2, t - t // 2) for t in totals)
    if isinstance(padding, str):
        raise ValueError(f"{op}: padding must be 'valid', 'same', an int or a tuple of ints, got {padding!r}")
    return tuple((p, p) for p in per_axis(padding, len(kernel), "padding", op, minimum=0))


def _shape(value: Any) -> Ints:
    return tuple(np.shape(value))


def _dtype(value: Any) -> np.dtype:
    return value.dtype if hasattr(value, "dtype") else np.asarray(value).dtype


def check_operands(op: str, input: Any, weight: Any, bias: Any, dims: int, channels_axis: int, groups: Any) -> bool:
    """Check shapes, groups and dtypes; True if ``input`` is unbatched (C, *L)."""
    x_shape, w_shape = _shape(input), _shape(weight)
    if len(w_shape) != dims + 2:
        raise ValueError(f"{op}: weight must have {dims + 2} dimensions (out, in/groups, *kernel), got shape {w_shape}")
    if len(x_shape) not in (dims + 1, dims + 2):
        raise ValueError(
            f"{op}: input must have shape (N, C, *spatial) or (C, *spatial) with {dims} spatial axes, got {x_shape}"
        )
    if isinstance(groups, bool) or not isinstance(groups, (int, np.integer)) or groups < 1:
        raise ValueError(f"{op}: groups must be a positive int, got {groups!r}")
    channels = x_shape[-dims - 1]
    expected = w_shape[0] if channels_axis == 0 else w_shape[1] * groups
    if channels != expected:
        raise ValueError(
            f"{op}: input of shape {x_shape} has {channels} channels; weight of shape {w_shape} with "
            f"groups={groups} expects {expected}"
        )
    divided = w_shape[0]
    if divided % groups:
        raise ValueError(f"{op}: weight of shape {w_shape}: {divided} channels do not divide into {groups} groups")
    out_channels = w_shape[1] * groups if channels_axis == 0 else w_shape[0]
    if bias is not None and _shape(bias) != (out_channels,):
        raise ValueError(f"{op}: bias must have shape ({out_channels},), got {_shape(bias)}")
    dtypes = {"input": _dtype(input), "weight": _dtype(weight)} | ({} if bias is None else {"bias": _dtype(bias)})
    if len(set(dtypes.values())) > 1:
        listed = ", ".join(f"{k} {v}" for k, v in dtypes.items())
        raise TypeError(f"{op}: {listed}: they must have the same dtype (convert with .astype)")
    return len(x_shape) == dims + 1


def _convolve(dims: int) -> Callable[..., Any]:
    op = f"conv{dims}d"

    def conv(input: Any, weight: Any, bias: Any = None, stride: Any = 1, padding: Any = 0, dilation: Any = 1,
             groups: int = 1) -> Any:  # fmt: skip
        unbatched = check_operands(op, input, weight, bias, dims, 1, groups)
        stride_ = per_axis(stride, dims, "stride", op)
        dilation_ = per_axis(dilation, dims, "dilation", op)
        kernel = _shape(weight)[2:]
        pairs = conv_padding(padding, kernel, stride_, dilation_, op)
        x = input.reshape((1,) + input.shape) if unbatched else input
        check_window(op, x.shape[2:], kernel, stride_, pairs, dilation_)
        operands = (x, weight) if bias is None else (x, weight, bias)
        z = Convolution.apply(*operands, stride=stride_, padding=pairs, dilation=dilation_, groups=int(groups))
        return z.reshape(z.shape[1:]) if unbatched else z

    conv.__name__ = conv.__qualname__ = op
    conv.__doc__ = (
        f"z = x ⋆ w + b: {dims}-D cross-correlation (PyTorch's ``F.{op}``), input ``(N, C, *L)`` or ``(C, *L)``, "
        "weight ``(C_out, C/groups, *k)``.\n\n"
        "``stride``, ``dilation``: ints or tuples; ``padding``: an int or tuple (zeros on both sides), "
        "``'valid'`` (none) or ``'same'`` (output as large as the input; stride 1); ``groups`` splits the "
        "channels into independent convolutions."
    )
    return conv


def _convolve_transpose(dims: int) -> Callable[..., Any]:
    op = f"conv_transpose{dims}d"

    def conv_transpose(input: Any, weight: Any, bias: Any = None, stride: Any = 1, padding: Any = 0,
                       output_padding: Any = 0, groups: int = 1, dilation: Any = 1) -> Any:  # fmt: skip
        unbatched = check_operands(op, input, weight, bias, dims, 0, groups)
        stride_ = per_axis(stride, dims, "stride", op)
        dilation_ = per_axis(dilation, dims, "dilation", op)
        pads = per_axis(padding, dims, "padding", op, minimum=0)
        extra = per_axis(output_padding, dims, "output_padding", op, minimum=0)
        if any(e >= max(s, d) for e, s, d in zip(extra, stride_, dilation_)):
            raise ValueError(
                f"{op}: output_padding {extra} must be smaller than stride {stride_} or dilation {dilation_}"
            )
        x = input.reshape((1,) + input.shape) if unbatched else input
        kernel = _shape(weight)[2:]
        size = tuple(
            (n - 1) * s - 2 * p + d * (k - 1) + e + 1
            for n, s, p, d, k, e in zip(x.shape[2:], stride_, pads, dilation_, kernel, extra)
        )
        if any(n < 1 for n in size):
            raise ValueError(f"{op}: input of shape {_shape(input)} with these settings gives an output of size {size}")
        operands = (x, weight) if bias is None else (x, weight, bias)
        z = ConvolutionTranspose.apply(
            *operands, size=size, stride=stride_, padding=tuple((p, p - e) for p, e in zip(pads, extra)), dilation=dilation_,
            groups=int(groups),
        )  # fmt: skip
        return z.reshape(z.shape[1:]) if unbatched else z

    conv_transpose.__name__ = conv_transpose.__qualname__ = op
    conv_transpose.__doc__ = (
        f"x = z ⋆ᵀ w + b: {dims}-D transposed convolution (PyTorch's ``F.{op}``), the adjoint of "
        f"``conv{dims}d`` in its input; weight ``(C_in, C_out/groups, *k)``.\n\n"
        "Output size (L − 1)·stride − 2·padding + dilation·(k − 1) + output_padding + 1 per axis."
    )
    return conv_transpose


def _reference(dims: int, transpose: bool) -> Callable[..., Any]:
    def reference(x: Any, w: Any, b: Any = None, **params: Any) -> Any:
        if transpose:
            return _naive.public_conv_transpose(x, w, b, dims=dims, **params)
        return _naive.public_conv(x, w, b, dims=dims, **params)

    return reference


conv1d = register_composite(reference=_reference(1, False), shapes=_draw.public_conv(1), functional="conv1d")(
    _convolve(1)
)
conv2d = register_composite(reference=_reference(2, False), shapes=_draw.public_conv(2), functional="conv2d")(
    _convolve(2)
)
conv_transpose1d = register_composite(
    reference=_reference(1, True), shapes=_draw.public_conv_transpose(1), functional="conv_transpose1d"
)(_convolve_transpose(1))
conv_transpose2d = register_composite(
    reference=_reference(2, True), shapes=_draw.public_conv_transpose(2), functional="conv_transpose2d"
)(_convolve_transpose(2))
