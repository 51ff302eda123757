"""Step functions, elementwise: floor, ceil, trunc, round, floor division (derivative zero
wherever it exists), and the remainders fmod and remainder (slope one in the dividend).

The outputs of the step functions require grad when their inputs do, as in PyTorch: the
gradient they pass back is zero, not missing. Their jumps (at integers, or half-integers
for round) are declared as kinks; the remainders jump where x/y is an integer, so their
property tests draw x and y from intervals where x/y never is.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..function import Function
from ..registry import register_op

_INTEGERS = [float(k) for k in range(-3, 4)]
_HALVES = [k + 0.5 for k in range(-4, 4)]
# x/y stays within (k, k + 1) for every pair drawn from these: no jump inside the domain
_DIVIDENDS = ((-2.9, -2.2), (-0.9, -0.1), (0.1, 0.9), (2.2, 2.9))
_DIVISORS = ((-1.05, -1.0), (1.0, 1.05))


class _Step(Function):
    """Shared backward of the step functions: δx = 0 (and δy = 0)."""

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        zero = ctx.xp.zeros_like(grad)
        return zero if len(ctx.needs_input_grad) == 1 else (zero, zero)


@register_op(reference=np.floor, kinks=_INTEGERS, functions="floor", methods="floor", ufuncs=np.floor)
class Floor(_Step):
    """z = ⌊x⌋;  δx = 0"""

    @staticmethod
    def forward(ctx: Any, x: Any) -> Any:
        return np.floor(x)


@register_op(reference=np.ceil, kinks=_INTEGERS, functions="ceil", methods="ceil", ufuncs=np.ceil)
class Ceil(_Step):
    """z = ⌈x⌉;  δx = 0"""

    @staticmethod
    def forward(ctx: Any, x: Any) -> Any:
        return np.ceil(x)


@register_op(reference=np.trunc, kinks=_INTEGERS, functions=("trunc", "fix"), methods=("trunc", "fix"), ufuncs=np.trunc)
class Trunc(_Step):
    """z = trunc x (rounded toward 0);  δx = 0"""

    @staticmethod
    def forward(ctx: Any, x: Any) -> Any:
        return np.trunc(x)


@register_op(
    reference=lambda x: np.round(x), kinks=_HALVES, functions=("round", "rint"), methods=("round", "rint"),
    operators="__round__", ufuncs=np.rint,
)  # fmt: skip
class Round(_Step):
    """z = x rounded to ``decimals`` places, halves to even (numpy's and PyTorch's rule);  δx = 0"""

    @staticmethod
    def forward(ctx: Any, x: Any, *, decimals: int = 0) -> Any:
        return np.round(x, decimals)


@register_op(
    reference=np.floor_divide, domain=[_DIVIDENDS, _DIVISORS], functions="floor_divide", methods="floor_divide",
    operators=("__floordiv__", "__rfloordiv__"), ufuncs=np.floor_divide,
)  # fmt: skip
class FloorDivide(_Step):
    """z = ⌊x / y⌋;  δx = 0,  δy = 0"""

    @staticmethod
    def forward(ctx: Any, x: Any, y: Any) -> Any:
        return np.floor_divide(x, y)


@register_op(
    reference=lambda x, y: x - np.floor(x / y) * y, domain=[_DIVIDENDS, _DIVISORS], functions=("remainder", "mod"),
    methods=("remainder", "mod"), operators=("__mod__", "__rmod__"), ufuncs=np.remainder,
)  # fmt: skip
class Remainder(Function):
    """z = x − ⌊x/y⌋·y, the sign of y (Python's %);  δx = δz,  δy = −δz · ⌊x/y⌋"""

    @staticmethod
    def forward(ctx: Any, x: Any, y: Any) -> Any:
        ctx.quotient = np.floor_divide(x, y)
        return np.remainder(x, y)

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        return grad, (-grad * ctx.quotient if ctx.needs_input_grad[1] else None)


@register_op(
    reference=lambda x, y: x - np.trunc(x / y) * y, domain=[_DIVIDENDS, _DIVISORS], functions="fmod", methods="fmod",
    ufuncs=np.fmod,
)  # fmt: skip
class Fmod(Function):
    """z = x − trunc(x/y)·y, the sign of x (C's fmod);  δx = δz,  δy = −δz · trunc(x/y)"""

    @staticmethod
    def forward(ctx: Any, x: Any, y: Any) -> Any:
        z = np.fmod(x, y)
        # NOTE: the quotient fmod used, (x − z) / y (an integer up to rounding), not trunc(x / y):
        # x / y rounds up to an integer k where fmod's quotient is k − 1 (fmod(1.0, 0.1) is
        # 0.0999…95, 1.0 − 9 · 0.1, but 1.0 / 0.1 = 10.0, so δy was −10, not −9).
        with np.errstate(divide="ignore", invalid="ignore"):
            ctx.quotient = np.round((x - z) / y)
        return z

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        return grad, (-grad * ctx.quotient if ctx.needs_input_grad[1] else None)
