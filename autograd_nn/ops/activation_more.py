"""More activations, with PyTorch's names and formulas (``autograd_nn.functional`` only, as
in ``torch.nn.functional``): GELU, SiLU, ELU and log-sigmoid are primitives (one readable,
numerically careful node each); SELU, CELU, mish, the hard variants, softsign, softmin, GLU
and PReLU are composites of other ops.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..function import Function
from ..registry import register_composite, register_op
from .activation import stable_sigmoid
from .arithmetic import Where
from .erf import erf

_SQRT_HALF = math.sqrt(0.5)
_INV_SQRT_2PI = 1 / math.sqrt(2 * math.pi)
_TANH_SCALE = math.sqrt(2 / math.pi)  # GELU's tanh approximation: tanh(√(2/π) (z + 0.044715 z³))
_TANH_CUBIC = 0.044715
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def _gelu_reference(z: np.ndarray, approximate: str) -> np.ndarray:
    if approximate == "tanh":
        return 0.5 * z * (1 + np.tanh(_TANH_SCALE * (z + _TANH_CUBIC * z**3)))
    return z * 0.5 * (1 + np.vectorize(math.erf, otypes=[np.float64])(z / math.sqrt(2)))


@register_op(
    reference=_gelu_reference, domain=(-5, 5), params={"approximate": ("none", "tanh")}, functional="gelu",
)  # fmt: skip
class Gelu(Function):
    """a = z Φ(z), Φ(z) = ½(1 + erf(z/√2));  δz = δa · (Φ(z) + z φ(z))   (``approximate='tanh'``: PyTorch's tanh form)"""

    @staticmethod
    def forward(ctx: Any, z: Any, *, approximate: str = "none") -> Any:
        if approximate not in ("none", "tanh"):
            raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
        ctx.save_for_backward(z)
        ctx.approximate = approximate
        if approximate == "tanh":
            return 0.5 * z * (1 + np.tanh(_TANH_SCALE * (z + _TANH_CUBIC * z * z * z)))
        return z * (0.5 + 0.5 * erf(z * _SQRT_HALF))

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        (z,) = ctx.saved_tensors
        xp = ctx.xp
        if ctx.approximate == "tanh":
            t = xp.tanh(_TANH_SCALE * (z + _TANH_CUBIC * z * z * z))
            slope = 0.5 * (1 + t) + 0.5 * z * (1 - t * t) * (_TANH_SCALE * (1 + 3 * _TANH_CUBIC * z * z))
            return grad * slope
        cdf = 0.5 + 0.5 * xp.erf(z * _SQRT_HALF)
        density = xp.exp(z * z * -0.5) * _INV_SQRT_2PI
        return grad * (cdf + z * density)


@register_op(reference=lambda z: z / (1 + np.exp(-z)), domain=(-8, 8), functional="silu")
class Silu(Function):
    """a = z σ(z) (SiLU, swish);  δz = δa · σ(z) (1 + z (1 − σ(z)))"""

    @staticmethod
    def forward(ctx: Any, z: Any) -> Any:
        ctx.save_for_backward(z)
        return z * stable_sigmoid(z)

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        (z,) = ctx.saved_tensors
        s = ctx.xp.sigmoid(z)
        return grad * (s * (1 + z * (1 - s)))


@register_op(
    reference=lambda z, alpha: np.where(z > 0, z, alpha * (np.exp(z) - 1)), kinks=[0.0], params={"alpha": (1.0, 0.5)},
    functional="elu",
)  # fmt: skip
class Elu(Function):
    """a = z if z > 0 else α(eᶻ − 1);  δz = δa if z > 0 else δa · α eᶻ"""

    @staticmethod
    def forward(ctx: Any, z: Any, *, alpha: float = 1.0) -> Any:
        ctx.save_for_backward(z)
        ctx.positive, ctx.alpha = np.asanyarray(z > 0), alpha
        # NOTE: expm1 of the negative part only: exact near 0, and no overflow for large z
        return np.where(ctx.positive, z, alpha * np.expm1(np.minimum(z, 0)))

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        (z,) = ctx.saved_tensors
        xp = ctx.xp
        return xp.where(ctx.positive, grad, grad * (xp.exp(xp.minimum(z, 0)) * ctx.alpha))


@register_op(reference=lambda z: -np.log1p(np.exp(-z)), domain=(-8, 8), functional="logsigmoid")
class LogSigmoid(Function):
    """a = ln σ(z) = −ln(1 + e⁻ᶻ);  δz = δa · σ(−z)"""

    @staticmethod
    def forward(ctx: Any, z: Any) -> Any:
        ctx.save_for_backward(z)
        return -np.logaddexp(0, -z)  # NOTE: finite for any z, unlike log(sigmoid(z))

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        (z,) = ctx.saved_tensors
        return grad * ctx.xp.sigmoid(-z)


@register_composite(
    reference=lambda z: SELU_SCALE * np.where(z > 0, z, SELU_ALPHA * (np.exp(z) - 1)), kinks=[0.0], functional="selu"
)
def selu(z: Any) -> Any:
    """a = λ · elu(z, α) with PyTorch's α ≈ 1.6733 and λ ≈ 1.0507 (self-normalising)"""
    return Elu.apply(z, alpha=SELU_ALPHA) * SELU_SCALE


@register_composite(
    reference=lambda z, alpha: np.where(z > 0, z, alpha * (np.exp(z / alpha) - 1)), kinks=[0.0],
    params={"alpha": (1.0, 0.5, 2.0)}, functional="celu",
)  # fmt: skip
def celu(z: Any, alpha: float = 1.0) -> Any:
    """a = z if z > 0 else α(e^(z/α) − 1)  (α · elu(z/α))"""
    if alpha == 0:
        raise ValueError("celu: alpha must not be 0")
    return Elu.apply(z * (1 / alpha), alpha=alpha) if alpha == 1 else Where.apply(
        z, Elu.apply(z * (1 / alpha)) * alpha, condition=np.asanyarray(z.data > 0))


@register_composite(reference=lambda z: z * np.tanh(np.log1p(np.exp(z))), domain=(-6, 6), functional="mish")
def mish(z: Any) -> Any:
    """a = z · tanh(softplus(z))"""
    return z * z.softplus().tanh()


def _hard_clip(z: Any, low: float, high: float) -> Any:
    """clip(z, low, high) with slope 0 at the corners too (PyTorch's hardtanh; clip has 1 there)."""
    inside = np.asanyarray((z.data > low) & (z.data < high))
    return Where.apply(z, np.clip(z.data, low, high), condition=inside)


@register_composite(reference=lambda z: np.clip(z + 3, 0, 6) / 6, domain=(-5, 5), kinks=[-3.0, 3.0],
                    functional="hardsigmoid")  # fmt: skip
def hardsigmoid(z: Any) -> Any:
    """a = relu6(z + 3) / 6: 0 below −3, 1 above 3, linear between"""
    return _hard_clip(z * (1 / 6) + 0.5, 0.0, 1.0)


@register_composite(reference=lambda z: z * np.clip(z + 3, 0, 6) / 6, domain=(-5, 5), kinks=[-3.0, 3.0],
                    functional="hardswish")  # fmt: skip
def hardswish(z: Any) -> Any:
    """a = z · relu6(z + 3) / 6"""
    return z * hardsigmoid(z)


@register_composite(reference=lambda z: np.clip(z, 0, 6), domain=(-2, 8), kinks=[0.0, 6.0], functional="relu6")
def relu6(z: Any) -> Any:
    """a = min(max(z, 0), 6)"""
    return _hard_clip(z, 0.0, 6.0)


@register_composite(
    reference=lambda z, min_val, max_val: np.clip(z, min_val, max_val), kinks=["min_val", "max_val"],
    params={"min_val": (-1.0, -0.5), "max_val": (1.0, 2.0)}, functional="hardtanh",
)  # fmt: skip
def hardtanh(z: Any, min_val: float = -1.0, max_val: float = 1.0) -> Any:
    """a = min(max(z, min_val), max_val)"""
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val ({min_val}) must not exceed max_val ({max_val})")
    return _hard_clip(z, min_val, max_val)


@register_composite(reference=lambda z: z / (1 + np.abs(z)), kinks=[0.0], functional="softsign")
def softsign(z: Any) -> Any:
    """a = z / (1 + abs(z))"""
    return z / (z.abs() + 1)


@register_composite(
    reference=lambda z, axis: np.exp(-z) / np.exp(-z).sum(axis, keepdims=True), shapes="axis", functional="softmin"
)
def softmin(z: Any, axis: int = -1) -> Any:
    """sᵢ = e^(−zᵢ) / Σⱼ e^(−zⱼ) along ``axis`` (``dim=``): the softmax of −z"""
    return (-z).softmax(axis=axis)


def _glu_shapes(draw: Any) -> tuple[list[tuple[int, ...]], dict[str, Any]]:
    from hypothesis import strategies as st  # a test-time dependency, imported only here

    shape = list(draw(st.lists(st.integers(1, 3), min_size=1, max_size=3)))
    axis = draw(st.integers(-len(shape), len(shape) - 1))
    shape[axis] *= 2
    return [tuple(shape)], {"axis": axis}


def _glu_reference(z: np.ndarray, axis: int) -> np.ndarray:
    a, b = np.split(z, 2, axis=axis)
    return a / (1 + np.exp(-b))


@register_composite(reference=_glu_reference, shapes=_glu_shapes, functional="glu")
def glu(z: Any, axis: int = -1) -> Any:
    """a ⊙ σ(b), where a and b are the two halves of z along ``axis`` (``dim=``)"""
    if z.ndim == 0 or z.shape[axis] % 2:
        raise ValueError(f"glu: axis {axis} of shape {z.shape} must have an even length to be halved")
    half = z.shape[axis] // 2
    lead = (slice(None),) * (axis % z.ndim)
    return z[lead + (slice(0, half),)] * z[lead + (slice(half, None),)].sigmoid()


def _prelu_shapes(draw: Any) -> tuple[list[tuple[int, ...]], dict[str, Any]]:
    from hypothesis import strategies as st  # a test-time dependency, imported only here

    shape = tuple(draw(st.lists(st.integers(1, 3), min_size=1, max_size=3)))
    channels = shape[1] if len(shape) > 1 else shape[0]
    return [shape, (draw(st.sampled_from([1, channels])),)], {}


def _prelu_reference(z: np.ndarray, weight: np.ndarray) -> np.ndarray:
    w = weight.reshape((-1,) + (1,) * (z.ndim - 2)) if z.ndim > 1 and weight.size > 1 else weight
    return np.where(z > 0, z, w * z)


@register_composite(reference=_prelu_reference, shapes=_prelu_shapes, kinks=[0.0], functional="prelu")
def prelu(z: Any, weight: Any) -> Any:
    """a = z if z > 0 else w·z, one learnable slope w per channel (axis 1; axis 0 of a 1-D z) or one for all"""
    weight = weight if hasattr(weight, "shape") else np.asanyarray(weight)
    count = int(np.prod(weight.shape))
    channels = (z.shape[1] if z.ndim > 1 else z.shape[0]) if z.ndim else 1
    if count != 1 and count != channels:
        raise ValueError(
            f"prelu: weight of shape {weight.shape} must have 1 element or one per channel ({channels}) "
            f"of input of shape {z.shape}"
        )
    if count > 1 and z.ndim > 1:
        weight = weight.reshape((count,) + (1,) * (z.ndim - 2))
    return Where.apply(z, z * weight, condition=np.asanyarray(z.data > 0))
