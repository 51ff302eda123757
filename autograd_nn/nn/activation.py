"""Activations a = f(z) as modules, and ``Dropout``: PyTorch's names, arguments and (for
``PReLU``) parameter, so ``state_dict``s move unchanged. ``inplace=`` is accepted wherever
PyTorch has it and has no effect: autograd_nn never overwrites an op's input."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import functional as F
from .._default_dtype import resolve_float_dtype
from ..tensor import Tensor
from . import init
from ._options import positive_int
from .module import Module
from .parameter import Parameter


class _Elementwise(Module):
    """An activation without parameters: ``forward`` applies ``_function`` (a name in ``F``)."""

    _function = ""

    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = bool(inplace)

    def forward(self, input: Any) -> Tensor:
        return getattr(F, self._function)(input)


class _AlongDim(Module):
    """An activation along one axis, ``dim`` as PyTorch names it."""

    _function = ""

    def __init__(self, dim: int = -1):
        super().__init__()
        self.dim = dim

    def forward(self, input: Any) -> Tensor:
        return getattr(F, self._function)(input, axis=self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Sigmoid(Module):
    """a = σ(z) = 1 / (1 + e⁻ᶻ);  σ'(z) = a (1 − a)."""

    def forward(self, input: Any) -> Tensor:
        return F.sigmoid(input)


class ReLU(_Elementwise):
    """a = max(z, 0).

    ``inplace`` is accepted for PyTorch compatibility and has no effect: autograd_nn
    never overwrites an op's input.
    """

    _function = "relu"


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


class Softmax(_AlongDim):
    """aᵢ = eᶻⁱ / Σⱼ eᶻʲ along ``dim`` (PyTorch's name; the same as ``F.softmax(z, axis=dim)``)."""

    _function = "softmax"


class SiLU(_Elementwise):
    """a = z σ(z) (also called swish)."""

    _function = "silu"


class Mish(_Elementwise):
    """a = z tanh(softplus(z))."""

    _function = "mish"


class Hardswish(_Elementwise):
    """a = z · relu6(z + 3) / 6."""

    _function = "hardswish"


class Hardsigmoid(_Elementwise):
    """a = relu6(z + 3) / 6."""

    _function = "hardsigmoid"


class ReLU6(_Elementwise):
    """a = min(max(z, 0), 6)."""

    _function = "relu6"


class SELU(_Elementwise):
    """a = λ · elu(z, α) with α ≈ 1.6733, λ ≈ 1.0507."""

    _function = "selu"


class LogSigmoid(Module):
    """a = ln σ(z), finite for any z."""

    def forward(self, input: Any) -> Tensor:
        return F.logsigmoid(input)


class Softsign(Module):
    """a = z / (1 + abs(z))."""

    def forward(self, input: Any) -> Tensor:
        return F.softsign(input)


class GELU(Module):
    """a = z Φ(z) with Φ the standard normal CDF; ``approximate='tanh'`` for the tanh form."""

    def __init__(self, approximate: str = "none"):
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, input: Any) -> Tensor:
        return F.gelu(input, approximate=self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class ELU(Module):
    """a = z if z > 0 else α(eᶻ − 1)."""

    def __init__(self, alpha: float = 1.0, inplace: bool = False):
        super().__init__()
        self.alpha, self.inplace = alpha, bool(inplace)

    def forward(self, input: Any) -> Tensor:
        return F.elu(input, alpha=self.alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}"


class CELU(ELU):
    """a = z if z > 0 else α(e^(z/α) − 1)."""

    def forward(self, input: Any) -> Tensor:
        return F.celu(input, alpha=self.alpha)


class Softplus(Module):
    """a = ln(1 + e^(βz)) / β, and z where βz > threshold."""

    def __init__(self, beta: float = 1.0, threshold: float = 20.0):
        super().__init__()
        self.beta, self.threshold = beta, threshold

    def forward(self, input: Any) -> Tensor:
        return F.softplus(input, beta=self.beta, threshold=self.threshold)

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}"


class Hardtanh(Module):
    """a = min(max(z, min_val), max_val)."""

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False):
        super().__init__()
        if min_val > max_val:
            raise ValueError(f"Hardtanh: min_val ({min_val}) must not exceed max_val ({max_val})")
        self.min_val, self.max_val, self.inplace = min_val, max_val, bool(inplace)

    def forward(self, input: Any) -> Tensor:
        return F.hardtanh(input, self.min_val, self.max_val)

    def extra_repr(self) -> str:
        return f"min_val={self.min_val}, max_val={self.max_val}"


class LogSoftmax(_AlongDim):
    """yᵢ = zᵢ − ln Σⱼ eᶻʲ along ``dim``."""

    _function = "log_softmax"


class Softmin(_AlongDim):
    """sᵢ = e^(−zᵢ) / Σⱼ e^(−zⱼ) along ``dim``."""

    _function = "softmin"


class GLU(_AlongDim):
    """a ⊙ σ(b) for the halves a, b of the input along ``dim``."""

    _function = "glu"


class PReLU(Module):
    """a = z if z > 0 else w·z, with a learnable slope ``weight`` of shape (num_parameters,),
    all ``init`` at first (PyTorch's 0.25): one for all channels, or one per channel (axis 1).
    ``dtype`` defaults to ``ag.get_default_dtype()``, as for every layer."""

    def __init__(self, num_parameters: int = 1, init: float = 0.25, dtype: Any = None):
        super().__init__()
        self.num_parameters = positive_int(num_parameters, "num_parameters", "PReLU")
        dtype = resolve_float_dtype(dtype, "PReLU")  # the default dtype (ag.set_default_dtype) when None
        self.weight = Parameter(np.full(self.num_parameters, init, dtype=dtype))

    def forward(self, input: Any) -> Tensor:
        return F.prelu(input, self.weight)

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}"


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
