"""GELU, a = z·Φ(z) (Φ the standard normal CDF), exact or with PyTorch's tanh approximation.

A minimal declaration for the transformer layers (``TransformerEncoderLayer(activation="gelu")``);
the fuller activation set of "Op breadth" may replace it.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..function import Function
from ..registry import register_composite, register_op

_erf = np.frompyfunc(math.erf, 1, 1)  # numpy has no erf; math.erf is correctly rounded to ~1 ulp
_TWO_OVER_ROOT_PI = 2 / math.sqrt(math.pi)


@register_op(reference=lambda z: np.vectorize(math.erf)(z).astype(z.dtype))
class Erf(Function):
    """a = erf z = (2/√π) ∫₀ᶻ e^(−t²) dt;  δz = δa · (2/√π) e^(−z²)"""

    @staticmethod
    def forward(ctx: Any, z: Any) -> Any:
        z = np.asanyarray(z)
        ctx.save_for_backward(z)
        erf = _erf(z)  # Python floats: an object array (a float for 0-d z), rounded once to z's dtype
        return erf.astype(z.dtype) if isinstance(erf, np.ndarray) else np.array(erf, dtype=z.dtype)

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        (z,) = ctx.saved_tensors
        return grad * (_TWO_OVER_ROOT_PI * ctx.xp.exp(-(z * z)))


def _gelu_reference(z: np.ndarray, approximate: str) -> np.ndarray:
    if approximate == "tanh":
        return 0.5 * z * (1 + np.tanh(math.sqrt(2 / math.pi) * (z + 0.044715 * z**3)))
    return 0.5 * z * (1 + np.vectorize(math.erf)(z / math.sqrt(2)))


@register_composite(
    reference=_gelu_reference, params={"approximate": ("none", "tanh")}, domain=(-4, 4), functional="gelu"
)
def gelu(input: Any, approximate: str = "none") -> Any:
    """a = z·Φ(z) = ½z(1 + erf(z/√2)); ``approximate='tanh'``: ½z(1 + tanh(√(2/π)(z + 0.044715 z³)))
    (PyTorch's ``F.gelu``)."""
    if approximate == "tanh":
        inner = (input + input * input * input * 0.044715) * math.sqrt(2 / math.pi)
        return input * 0.5 * (inner.tanh() + 1)
    if approximate != "none":
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return input * 0.5 * (Erf.apply(input * (1 / math.sqrt(2))) + 1)
