"""Convolution layers with PyTorch's names, signatures, parameter layout and default
initialisation: ``Conv1d``, ``Conv2d``, ``ConvTranspose1d``, ``ConvTranspose2d``.

A PyTorch ``state_dict`` (``weight``, ``bias``) loads unchanged, and the layer then
computes what PyTorch's does (the tests hold them to 1e-8 in float64).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import functional as F
from .._default_dtype import resolve_float_dtype
from .._device import check_device
from ..tensor import Tensor
from . import init
from ._checks import check_input_dtype
from .module import Module
from .parameter import Parameter

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


def _per_axis(layer: str, name: str, value: Any, dims: int, minimum: int) -> tuple[int, ...]:
    values = (value,) * dims if isinstance(value, (int, np.integer)) and not isinstance(value, bool) else value
    if (
        not isinstance(values, (tuple, list))
        or len(values) != dims
        or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= minimum for v in values)
    ):
        raise ValueError(f"{layer}: {name} must be an int ≥ {minimum} or a tuple of {dims} such ints, got {value!r}")
    return tuple(int(v) for v in values)


class _ConvNd(Module):
    """What the four convolution layers share: arguments, parameters, initialisation, repr."""

    dims = 0
    transposed = False

    def __init__(
        self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any, padding: Any, dilation: Any,
        groups: int, bias: bool, padding_mode: str, output_padding: Any, device: Any, dtype: Any,
    ) -> None:  # fmt: skip
        super().__init__()
        name, dims = type(self).__name__, self.dims
        for label, value, least in (("in_channels", in_channels, 0), ("out_channels", out_channels, 0), ("groups", groups, 1)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < least:
                raise ValueError(f"{name}: {label} must be an int ≥ {least}, got {value!r}")
        if in_channels % groups or out_channels % groups:
            raise ValueError(
                f"{name}: in_channels ({in_channels}) and out_channels ({out_channels}) must be divisible by "
                f"groups ({groups})"
            )
        if padding_mode not in _PADDING_MODES:
            raise ValueError(f"{name}: padding_mode must be one of {_PADDING_MODES}, got {padding_mode!r}")
        if padding_mode != "zeros":
            raise ValueError(f"{name}: padding_mode={padding_mode!r} is not supported; only 'zeros'")
        check_device(device, name)
        dtype = resolve_float_dtype(dtype, name)
        self.in_channels, self.out_channels, self.groups = int(in_channels), int(out_channels), int(groups)
        self.kernel_size = _per_axis(name, "kernel_size", kernel_size, dims, 1)
        self.stride = _per_axis(name, "stride", stride, dims, 1)
        self.dilation = _per_axis(name, "dilation", dilation, dims, 1)
        if isinstance(padding, str):
            if self.transposed or padding not in ("same", "valid"):
                allowed = "an int or a tuple of ints" if self.transposed else "'same', 'valid', an int or a tuple of ints"
                raise ValueError(f"{name}: padding must be {allowed}, got {padding!r}")
            if padding == "same" and any(s != 1 for s in self.stride):
                raise ValueError(f"{name}: padding='same' is not supported for strided convolutions")
            self.padding: Any = padding
        else:
            self.padding = _per_axis(name, "padding", padding, dims, 0)
        self.output_padding = _per_axis(name, "output_padding", output_padding, dims, 0)
        self.padding_mode = padding_mode
        shape = (in_channels, out_channels // groups) if self.transposed else (out_channels, in_channels // groups)
        self.weight = Parameter(np.empty(shape + self.kernel_size, dtype=dtype))
        if bias:
            self.bias = Parameter(np.empty(out_channels, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self, generator: np.random.Generator | None = None) -> None:
        """PyTorch's default: W ~ kaiming_uniform_(a=√5), b ~ U(−1/√fan_in, 1/√fan_in), fan_in from W."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5), generator=generator)
        if self.bias is not None:
            fan_in = self.weight.shape[1] * math.prod(self.kernel_size)
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0.0
            init.uniform_(self.bias, -bound, bound, generator=generator)

    def _check(self, input: Any) -> None:
        shape = np.shape(input.data if isinstance(input, Tensor) else input)
        if len(shape) not in (self.dims + 1, self.dims + 2) or shape[-self.dims - 1] != self.in_channels:
            raise ValueError(
                f"{self!r}: input has shape {shape}; expected (N, {self.in_channels}, *spatial) or "
                f"({self.in_channels}, *spatial) with {self.dims} spatial axes"
            )
        check_input_dtype(self, input if hasattr(input, "dtype") else np.asarray(input), self.weight.dtype)

    def extra_repr(self) -> str:
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0,) * self.dims:
            s += f", padding={self.padding}"  # as PyTorch: padding=same
        if self.dilation != (1,) * self.dims:
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * self.dims:
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        return s


class _Conv(_ConvNd):
    def __init__(
        self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1, padding: Any = 0,
        dilation: Any = 1, groups: int = 1, bias: bool = True, padding_mode: str = "zeros", device: Any = None,
        dtype: Any = None,
    ) -> None:  # fmt: skip
        super().__init__(
            in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias, padding_mode, 0, device,
            dtype,
        )  # fmt: skip

    def forward(self, input: Any) -> Tensor:
        self._check(input)
        conv = F.conv1d if self.dims == 1 else F.conv2d
        return conv(input, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)


class Conv1d(_Conv):
    """z = x ⋆ w + b over one spatial axis: input (N, C_in, L) or (C_in, L) → (N, C_out, L_out).

    PyTorch's ``nn.Conv1d``: weight (out_channels, in_channels/groups, kernel_size), bias
    (out_channels,), drawn as PyTorch draws them. ``padding``: an int, a tuple, 'valid' or
    'same'; only ``padding_mode='zeros'``. ``dtype`` defaults to ``ag.get_default_dtype()`` (as ``nn.Linear``).
    """

    dims = 1


class Conv2d(_Conv):
    """z = x ⋆ w + b over two spatial axes: input (N, C_in, H, W) or (C_in, H, W) → (N, C_out, H_out, W_out).

    PyTorch's ``nn.Conv2d``: weight (out_channels, in_channels/groups, kH, kW), bias
    (out_channels,), drawn as PyTorch draws them (``kaiming_uniform_`` with a=√5). im2col and
    one matrix product per group (``F.conv2d``).

    >>> from autograd_nn import nn
    >>> layer = nn.Conv2d(1, 6, kernel_size=5)
    >>> layer.weight.shape, layer(np.zeros((2, 1, 28, 28))).shape
    ((6, 1, 5, 5), (2, 6, 24, 24))
    """

    dims = 2


class _ConvTranspose(_ConvNd):
    transposed = True

    def __init__(
        self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1, padding: Any = 0,
        output_padding: Any = 0, groups: int = 1, bias: bool = True, dilation: Any = 1, padding_mode: str = "zeros",
        device: Any = None, dtype: Any = None,
    ) -> None:  # fmt: skip
        super().__init__(
            in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias, padding_mode,
            output_padding, device, dtype,
        )  # fmt: skip

    def forward(self, input: Any, output_size: Any = None) -> Tensor:
        self._check(input)
        extra = self.output_padding if output_size is None else self._output_padding(input, output_size)
        conv = F.conv_transpose1d if self.dims == 1 else F.conv_transpose2d
        return conv(input, self.weight, self.bias, self.stride, self.padding, extra, self.groups, self.dilation)

    def _output_padding(self, input: Any, output_size: Any) -> tuple[int, ...]:
        """The output_padding that gives ``output_size`` (spatial, or with the leading axes), as PyTorch."""
        shape = np.shape(input.data if isinstance(input, Tensor) else input)
        sizes = tuple(output_size)
        if len(sizes) == len(shape):
            sizes = sizes[len(shape) - self.dims :]
        if len(sizes) != self.dims:
            raise ValueError(f"{self!r}: output_size must have {self.dims} or {len(shape)} elements, got {output_size!r}")
        spatial = shape[len(shape) - self.dims :]
        extra = []
        for n, want, s, p, d, k in zip(spatial, sizes, self.stride, self.padding, self.dilation, self.kernel_size):
            smallest = (n - 1) * s - 2 * p + d * (k - 1) + 1
            if not smallest <= want < smallest + s:
                raise ValueError(
                    f"{self!r}: requested an output size of {tuple(sizes)}, but valid sizes range from "
                    f"{smallest} to {smallest + s - 1} along this axis (for an input of spatial shape {spatial})"
                )
            extra.append(want - smallest)
        return tuple(extra)


class ConvTranspose1d(_ConvTranspose):
    """x = z ⋆ᵀ w + b over one axis, the adjoint of ``Conv1d`` in its input: (N, C_in, L) → (N, C_out, L_out).

    PyTorch's ``nn.ConvTranspose1d``: weight (in_channels, out_channels/groups, kernel_size);
    L_out = (L − 1)·stride − 2·padding + dilation·(k − 1) + output_padding + 1, or pass
    ``output_size`` to ``forward``.
    """

    dims = 1


class ConvTranspose2d(_ConvTranspose):
    """x = z ⋆ᵀ w + b over two axes, the adjoint of ``Conv2d`` in its input: (N, C_in, H, W) → (N, C_out, H_out, W_out).

    PyTorch's ``nn.ConvTranspose2d``: weight (in_channels, out_channels/groups, kH, kW),
    bias (out_channels,); ``forward(input, output_size=None)`` as PyTorch's.
    """

    dims = 2
