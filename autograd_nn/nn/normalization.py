"""Normalisation layers with PyTorch's names, parameters and buffers: ``BatchNorm1d``,
``BatchNorm2d``, ``LayerNorm``, ``GroupNorm`` and ``RMSNorm``.

BatchNorm keeps ``running_mean``, ``running_var`` and ``num_batches_tracked`` as buffers
(in ``state_dict``, not trained): in training mode it normalises with the batch's
statistics and updates the running ones; in eval mode it uses the running ones.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import functional as F
from .._default_dtype import resolve_float_dtype
from .._device import check_device
from ..creation import as_tensor
from ..tensor import Tensor
from . import init
from ._checks import check_input_dtype
from ._options import positive_int
from .module import Module
from .parameter import Parameter


def _checked(layer: Module, input: Any, *state: Tensor | None) -> Tensor:
    """``input`` as a Tensor, refused unless it has the dtype of the layer's first state
    (weight, else running statistics; a layer with neither takes any float input)."""
    input = as_tensor(input)
    for tensor in state:
        if tensor is not None:
            check_input_dtype(layer, input, tensor.dtype)
            break
    return input



def _affine(layer: Module, shape: Any, dtype: Any, affine: bool, bias: bool) -> None:
    """A norm layer's γ (ones) and β (zeros), or None for each it does not learn."""
    layer.register_parameter("weight", Parameter(np.ones(shape, dtype=dtype)) if affine else None)
    layer.register_parameter("bias", Parameter(np.zeros(shape, dtype=dtype)) if affine and bias else None)


class _BatchNorm(Module):
    """What BatchNorm1d and BatchNorm2d share; they differ in the input ranks they accept."""

    _ranks: tuple[int, ...] = ()

    def __init__(
        self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True,
        track_running_stats: bool = True, device: Any = None, dtype: Any = None, *, bias: bool = True,
    ) -> None:  # fmt: skip
        super().__init__()
        owner = type(self).__name__
        check_device(device, owner)
        dtype = resolve_float_dtype(dtype, owner)
        self.num_features = positive_int(num_features, "num_features", owner)
        self.eps, self.momentum = eps, momentum
        self.affine, self.track_running_stats = bool(affine), bool(track_running_stats)
        _affine(self, self.num_features, dtype, self.affine, bias)
        if self.track_running_stats:
            self.register_buffer("running_mean", Tensor(np.zeros(self.num_features, dtype=dtype)))
            self.register_buffer("running_var", Tensor(np.ones(self.num_features, dtype=dtype)))
            self.register_buffer("num_batches_tracked", Tensor(np.array(0, dtype=np.int64)))
        else:
            for name in ("running_mean", "running_var", "num_batches_tracked"):
                self.register_buffer(name, None)

    def reset_running_stats(self) -> None:
        """running_mean ← 0, running_var ← 1, num_batches_tracked ← 0."""
        if self.track_running_stats:
            init.zeros_(self.running_mean)
            init.ones_(self.running_var)
            init.zeros_(self.num_batches_tracked)

    def reset_parameters(self) -> None:
        """The running statistics reset, weight ← 1 and bias ← 0 (PyTorch's initialisation)."""
        self.reset_running_stats()
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)

    def forward(self, input: Any) -> Tensor:
        input = _checked(self, input, self.weight, self.running_mean)
        ndim = input.ndim
        if ndim not in self._ranks:
            ranks = " or ".join(f"{r}D" for r in self._ranks)
            raise ValueError(f"{type(self).__name__}: expected {ranks} input (got {ndim}D input)")
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats and self.num_batches_tracked is not None:
            # An in-place op (not a write into .data) and 1/n as an array, not a Python
            # number: a compiled step then counts, and averages, on every replay too.
            self.num_batches_tracked.add_(1)
            if self.momentum is None:  # a cumulative moving average
                factor = 1.0 / self.num_batches_tracked.data
        use_batch = self.training or (self.running_mean is None and self.running_var is None)
        keep_running = not self.training or self.track_running_stats
        return F.batch_norm(
            input, self.running_mean if keep_running else None, self.running_var if keep_running else None,
            self.weight, self.bias, use_batch, factor, self.eps,
        )  # fmt: skip

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
            f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}"
        )


class BatchNorm1d(_BatchNorm):
    """y = (x − μ)/√(σ² + ε) · γ + β per feature of (N, C) or (N, C, L) input; μ, σ² of the
    batch in training mode (running averages updated), the running ones in eval mode.

    >>> import numpy as np
    >>> from autograd_nn import nn
    >>> bn = nn.BatchNorm1d(3)
    >>> sorted(bn.state_dict())
    ['bias', 'num_batches_tracked', 'running_mean', 'running_var', 'weight']
    >>> y = bn(np.random.default_rng(0).normal(5.0, 2.0, (64, 3)))
    >>> bool(abs(y.data.mean()) < 1e-12), bn.num_batches_tracked.item()
    (True, 1)
    """

    _ranks = (2, 3)


class BatchNorm2d(_BatchNorm):
    """BatchNorm over the channels of (N, C, H, W) input: statistics over N, H and W."""

    _ranks = (4,)


def _normalized_shape(value: Any, owner: str) -> tuple[int, ...]:
    shape = (value,) if isinstance(value, (int, np.integer)) else tuple(value)
    return tuple(positive_int(n, "normalized_shape", owner) for n in shape)


class LayerNorm(Module):
    """y = (x − μ)/√(σ² + ε) · γ + β, μ and σ² over the trailing ``normalized_shape`` axes of
    each sample; γ (``weight``, ones) and β (``bias``, zeros) have that shape."""

    def __init__(
        self, normalized_shape: Any, eps: float = 1e-5, elementwise_affine: bool = True, bias: bool = True,
        device: Any = None, dtype: Any = None,
    ) -> None:  # fmt: skip
        super().__init__()
        check_device(device, "LayerNorm")
        dtype = resolve_float_dtype(dtype, "LayerNorm")
        self.normalized_shape = _normalized_shape(normalized_shape, "LayerNorm")
        self.eps, self.elementwise_affine = eps, bool(elementwise_affine)
        _affine(self, self.normalized_shape, dtype, self.elementwise_affine, bias)

    def forward(self, input: Any) -> Tensor:
        input = _checked(self, input, self.weight, self.bias)
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (
            f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}, "
            f"bias={self.bias is not None}"
        )


class GroupNorm(Module):
    """Standardise each of ``num_groups`` groups of channels of (N, C, …) input over its
    channels and positions, then y = x̂ · γ_c + β_c per channel."""

    def __init__(
        self, num_groups: int, num_channels: int, eps: float = 1e-5, affine: bool = True, device: Any = None,
        dtype: Any = None, *, bias: bool = True,
    ) -> None:  # fmt: skip
        super().__init__()
        check_device(device, "GroupNorm")
        dtype = resolve_float_dtype(dtype, "GroupNorm")
        self.num_groups = positive_int(num_groups, "num_groups", "GroupNorm")
        self.num_channels = positive_int(num_channels, "num_channels", "GroupNorm")
        if self.num_channels % self.num_groups:
            raise ValueError(f"GroupNorm: num_channels ({num_channels}) must be divisible by num_groups ({num_groups})")
        self.eps, self.affine = eps, bool(affine)
        _affine(self, self.num_channels, dtype, self.affine, bias)

    def forward(self, input: Any) -> Tensor:
        input = _checked(self, input, self.weight, self.bias)
        return F.group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, bias={self.bias is not None}"


class RMSNorm(Module):
    """y = x / √(mean(x²) + ε) · γ over the trailing ``normalized_shape`` axes; ``eps=None``
    is the machine epsilon of the input's dtype (PyTorch's default)."""

    def __init__(
        self, normalized_shape: Any, eps: float | None = None, elementwise_affine: bool = True, device: Any = None,
        dtype: Any = None,
    ) -> None:  # fmt: skip
        super().__init__()
        check_device(device, "RMSNorm")
        dtype = resolve_float_dtype(dtype, "RMSNorm")
        self.normalized_shape = _normalized_shape(normalized_shape, "RMSNorm")
        self.eps, self.elementwise_affine = eps, bool(elementwise_affine)
        if self.elementwise_affine:
            self.weight = Parameter(np.ones(self.normalized_shape, dtype=dtype))
        else:
            self.register_parameter("weight", None)

    def forward(self, input: Any) -> Tensor:
        input = _checked(self, input, self.weight)
        return F.rms_norm(input, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self) -> str:
        return f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"
