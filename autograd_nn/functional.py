"""User-facing functions (``autograd_nn.functional``, usually imported as ``F``).

Every op declared with a function name appears here, generated from the registry
(``exp``, ``sigmoid``, ``matmul``, ``linear``, ``sum``, ``where``, …); the top-level
``autograd_nn.exp`` and friends are the same functions. Functional only, as in PyTorch,
are the activations (``gelu``, ``silu``, …) and the losses (``ops/loss_*.py``), with
PyTorch's names, argument order ``(input, target)`` and ``reduction='mean' | 'sum' |
'none'``. Defined here are ``dropout`` and ``dropout2d``.

Functions accept Tensors, ndarrays, lists and scalars.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._surface import public_functions
from .creation import as_tensor, one_hot  # noqa: F401 - PyTorch's F.one_hot, the same function as ag.one_hot
from .ops import _draw_pool
from .ops._random import uniform
from .ops.indexing import put_along_axis  # noqa: F401 - numpy's in-place write, a function here too
from .registry import builtin_specs, register_composite
from .tensor import Tensor

TOP_LEVEL, _FUNCTIONAL_ONLY = public_functions(as_tensor)
globals().update(TOP_LEVEL)
globals().update(_FUNCTIONAL_ONLY)


@register_composite(
    arity=1,
    reference=lambda x, p, rng: np.where(np.random.default_rng(rng).random(x.shape) >= p, x / (1 - p), 0.0),
    params={"p": (0.0, 0.25, 0.5), "rng": (7,)},
)
def dropout(x: Any, p: float = 0.5, training: bool = True, rng: np.random.Generator | int | None = None) -> Tensor:
    """aᵢ ← aᵢ · mᵢ / (1 − p), mᵢ ~ Bernoulli(1 − p): zero each element with probability ``p``.

    ``rng`` is a ``numpy.random.Generator`` or a seed (None: fresh entropy).
    """
    if not 0 <= p <= 1:
        raise ValueError(f"dropout: p must be in [0, 1], got {p}")
    x = as_tensor(x)
    return _dropped(x, p, training, x.shape, rng)


@register_composite(
    arity=1, shapes=_draw_pool.dropout2d, params={"p": (0.0, 0.25, 0.5), "rng": (7,)},
    reference=lambda x, p, rng: x * (np.random.default_rng(rng).random(x.shape[:2] + (1,) * (x.ndim - 2)) >= p)
    / (1 - p),
)  # fmt: skip
def dropout2d(
    input: Any, p: float = 0.5, training: bool = True, inplace: bool = False,
    rng: np.random.Generator | int | None = None,
) -> Tensor:  # fmt: skip
    """Zero each channel (a whole (H, W) map of a (N, C, H, W) input) with probability ``p``
    and scale the rest by 1/(1 − p), as PyTorch's ``F.dropout2d`` (a 3-D input is read as
    (N, C, L), as PyTorch does). ``inplace`` is accepted and has no effect; ``rng`` as ``dropout``."""
    if not 0 <= p <= 1:
        raise ValueError(f"dropout2d: p must be in [0, 1], got {p}")
    input = as_tensor(input)
    if input.ndim not in (3, 4):
        raise ValueError(f"dropout2d: input must have shape (N, C, H, W) (or (N, C, L)), got {input.shape}")
    mask_shape = input.shape[:2] + (1,) * (input.ndim - 2)
    return _dropped(input, p, training, mask_shape, rng)


def _dropped(
    x: Tensor, p: float, training: bool, mask_shape: tuple[int, ...], rng: np.random.Generator | int | None
) -> Tensor:
    """x · m / (1 − p), one mᵢ ~ Bernoulli(1 − p) per element of ``mask_shape`` (broadcast
    over x): ``dropout``'s and ``dropout2d``'s shared rule, once ``p`` has been checked."""
    if not training or p == 0:
        return x
    if p == 1:
        return x * np.zeros(mask_shape, dtype=x.dtype)
    keep = (uniform(rng, mask_shape) >= p).astype(x.dtype)  # (a compiled step draws afresh, as eager)
    return x * (keep / np.asarray(1 - p, dtype=x.dtype))


DEFINED_HERE = sorted({s.apply.__name__ for s in builtin_specs("composite") if s.apply.__module__ == __name__})
__all__ = sorted({*TOP_LEVEL, *_FUNCTIONAL_ONLY, *DEFINED_HERE, "one_hot", "put_along_axis"})
