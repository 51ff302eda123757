"""Activations a = f(z) as modules, and ``Dropout``."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import functional as F
from ..tensor import Tensor
from . import init
from .module import Module


class Sigmoid(Module):
    """a = σ(z) = 1 / (1 + e⁻ᶻ);  σ'(z) = a (1 − a)."""

    def forward(self, input: Any) -> Tensor:
        return F.sigmoid(input)


class ReLU(Module):
    """a = max(z, 0).

    ``inplace`` is accepted for PyTorch compatibility and has no effect: autograd_nn
    never overwrites an op's input.
    """

    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = bool(inplace)

    def forward(self, input: Any) -> Tensor:
        return F.relu(input)


class Tanh(Module):
    """a = tanh z;  tanh'(z) = 1 − a²."""

    def forward(self, input: Any) -> Tensor:
        return F.tanh(input)


class LeakyReLU(Module):
    """a = z for z > 0, else negative_slope · z."""

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False):
        # inplace: accepted for PyTorch compatibility, no effect (inputs are never overwritten)
        super().__init__()
        self.negative_slope = negative_slope
        self.inplace = bool(inplace)

    def forward(self, input: Any) -> Tensor:
        return F.leaky_relu(input, self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class Softmax(Module):
    """aᵢ = eᶻⁱ / Σⱼ eᶻʲ along ``dim`` (PyTorch's name; the same as ``F.softmax(z, axis=dim)``)."""

    def __init__(self, dim: int = -1):
        super().__init__()
        self.dim = dim

    def forward(self, input: Any) -> Tensor:
        return F.softmax(input, axis=self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Dropout(Module):
    """In training mode, zero each element with probability ``p`` and scale the rest by
    1/(1 − p); in eval mode, the identity.

    Draws from ``generator`` if given, else from the ``nn`` default generator
    (``nn.init.manual_seed`` seeds it).
    """

    def __init__(self, p: float = 0.5, inplace: bool = False, *, generator: np.random.Generator | None = None):
        # inplace: PyTorch's second argument, accepted and without effect (inputs are never overwritten)
        super().__init__()
        self.inplace = bool(inplace)
        if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p <= 1:
            raise ValueError(f"Dropout: p must be a probability in [0, 1], got {p!r}")
        if generator is not None and not isinstance(generator, np.random.Generator):
            raise TypeError(f"Dropout: generator must be a numpy.random.Generator, got {type(generator).__name__}")
        self.p = float(p)
        self.generator = generator

    def forward(self, input: Any) -> Tensor:
        rng = self.generator if self.generator is not None else init.default_generator()
        return F.dropout(input, self.p, self.training, rng=rng)

    def extra_repr(self) -> str:
        return f"p={self.p}"
