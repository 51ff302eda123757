"""Weight initialisation, in place, with PyTorch's names and formulas (``nn.init``).

Every function fills ``tensor.data`` in place (keeping its dtype) and returns the tensor.

**Randomness.** Each function takes ``generator=``, a ``numpy.random.Generator``. Without
one, it draws from the default generator of ``autograd_nn.random``, which is also what
``nn.Linear``'s default initialisation, ``nn.Dropout`` and ``autograd_nn.rand`` use. It
starts unseeded (like numpy's ``default_rng()``); ``manual_seed(seed)`` (the same as
``autograd_nn.manual_seed``) re-seeds it, so::

    nn.init.manual_seed(0)
    model = nn.Sequential(nn.Linear(56, 8), nn.Sigmoid(), nn.Linear(8, 1))

builds the same weights every run. Pass your own ``generator`` to keep streams apart.

**Fans.** For a weight of shape (out, in) — ``nn.Linear``'s layout —
``fan_in = in`` and ``fan_out = out`` (times the receptive field for ≥ 3-D weights).
"""

from __future__ import annotations

import math

import numpy as np

from .. import random
from ..tensor import Tensor

__all__ = [
    "calculate_gain", "constant_", "default_generator", "kaiming_normal_", "kaiming_uniform_",
    "lecun_normal_", "manual_seed", "normal_", "ones_", "uniform_", "xavier_normal_",
    "xavier_uniform_", "zeros_",
]  # fmt: skip


def manual_seed(seed: int | None) -> np.random.Generator:
    """Re-seed the default generator (init functions, ``Linear``, ``Dropout``, and every
    random function of autograd_nn: it is ``autograd_nn.manual_seed``) and return it. As
    ``torch.manual_seed``, it re-seeds the generator in place: every holder of it (a layer,
    a compiled step's replay) draws the new stream, which is ``np.random.default_rng(seed)``'s."""
    return random.manual_seed(seed)


def default_generator() -> np.random.Generator:
    """The generator ``nn`` draws from when no ``generator=`` is given (``autograd_nn.random``'s)."""
    return random.default_generator()


def _rng(generator: np.random.Generator | None) -> np.random.Generator:
    return random.generator_of("nn.init", generator)


def _fill(tensor: Tensor, values: np.ndarray | float) -> Tensor:
    if not isinstance(tensor, Tensor):
        raise TypeError(f"nn.init: expected a Tensor or Parameter, got {type(tensor).__name__}")
    tensor.data[...] = values
    tensor._increment_version()  # a graph that saved the old values must not use them
    return tensor


def _fans(tensor: Tensor, op_name: str) -> tuple[int, int]:
    shape = np.shape(tensor.data)
    if len(shape) < 2:
        raise ValueError(
            f"{op_name}: fan in and fan out need a weight with at least 2 dimensions (out, in, ...), got shape {shape}"
        )
    receptive = int(np.prod(shape[2:])) if len(shape) > 2 else 1
    return shape[1] * receptive, shape[0] * receptive


def _fan(tensor: Tensor, mode: str, op_name: str) -> int:
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"{op_name}: mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = _fans(tensor, op_name)
    return fan_in if mode == "fan_in" else fan_out


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The gain that keeps activations' variance steady through ``nonlinearity``.

    linear, identity, sigmoid → 1;  tanh → 5/3;  relu → √2;
    leaky_relu(slope=param, default 0.01) → √(2 / (1 + slope²));  selu → 3/4.
    """
    if nonlinearity in ("linear", "identity", "sigmoid", "conv1d", "conv2d", "conv3d"):
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        if isinstance(slope, bool) or not isinstance(slope, (int, float)):
            raise ValueError(f"calculate_gain: negative_slope {slope!r} is not a number")
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"calculate_gain: unsupported nonlinearity {nonlinearity!r}")


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0, generator: np.random.Generator | None = None) -> Tensor:
    """Fill with draws from U(a, b)."""
    return _fill(tensor, _rng(generator).uniform(a, b, np.shape(tensor.data)))


def normal_(
    tensor: Tensor, mean: float = 0.0, std: float = 1.0, generator: np.random.Generator | None = None
) -> Tensor:
    """Fill with draws from N(mean, std²)."""
    return _fill(tensor, _rng(generator).normal(mean, std, np.shape(tensor.data)))


def constant_(tensor: Tensor, val: float) -> Tensor:
    """Fill ``tensor`` with ``val`` in place; returns it."""
    return _fill(tensor, val)


def zeros_(tensor: Tensor) -> Tensor:
    """Fill ``tensor`` with zeros in place; returns it."""
    return _fill(tensor, 0)


def ones_(tensor: Tensor) -> Tensor:
    """Fill ``tensor`` with ones in place; returns it."""
    return _fill(tensor, 1)


def lecun_normal_(tensor: Tensor, mode: str = "fan_in", generator: np.random.Generator | None = None) -> Tensor:
    """N(0, fan⁻¹): the post's ``np.random.normal(0.0, fan_in**-0.5, shape)`` (LeCun normal).

    With ``mode='fan_in'`` the standard deviation is ``in_features ** -0.5`` for a
    Linear weight, which is what the hand-written network draws for each layer.
    """
    return normal_(tensor, 0.0, _fan(tensor, mode, "lecun_normal_") ** -0.5, generator)


def xavier_uniform_(tensor: Tensor, gain: float = 1.0, generator: np.random.Generator | None = None) -> Tensor:
    """Glorot uniform: U(−r, r) with r = gain · √(6 / (fan_in + fan_out))."""
    fan_in, fan_out = _fans(tensor, "xavier_uniform_")
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(tensor, -bound, bound, generator)


def xavier_normal_(tensor: Tensor, gain: float = 1.0, generator: np.random.Generator | None = None) -> Tensor:
    """Glorot normal: N(0, σ²) with σ = gain · √(2 / (fan_in + fan_out))."""
    fan_in, fan_out = _fans(tensor, "xavier_normal_")
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)), generator)


def kaiming_uniform_(
    tensor: Tensor,
    a: float = 0.0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    generator: np.random.Generator | None = None,
) -> Tensor:
    """He uniform: U(−r, r) with r = gain · √(3 / fan), gain = calculate_gain(nonlinearity, a)."""
    fan = _fan(tensor, mode, "kaiming_uniform_")
    bound = calculate_gain(nonlinearity, a) * math.sqrt(3.0 / fan) if fan else 0.0
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(
    tensor: Tensor,
    a: float = 0.0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    generator: np.random.Generator | None = None,
) -> Tensor:
    """He normal: N(0, σ²) with σ = gain / √fan, gain = calculate_gain(nonlinearity, a)."""
    fan = _fan(tensor, mode, "kaiming_normal_")
    std = calculate_gain(nonlinearity, a) / math.sqrt(fan) if fan else 0.0
    return normal_(tensor, 0.0, std, generator)
