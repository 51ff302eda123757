"""User-facing functions (``autograd_nn.functional``, usually imported as ``F``).

Every op declared with a function name appears here, generated from the registry
(``exp``, ``sigmoid``, ``matmul``, ``linear``, ``sum``, ``where``, …); the top-level
``autograd_nn.exp`` and friends are the same functions. Functional only, as in PyTorch,
are the activations (``gelu``, ``silu``, …) and the losses (``ops/loss_*.py``), with
PyTorch's names, argument order ``(input, target)`` and ``reduction='mean' | 'sum' |
'none'``. Defined here is ``dropout``.

Functions accept Tensors, ndarrays, lists and scalars.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import _tracing
from ._surface import public_functions
from .creation import as_tensor, one_hot  # noqa: F401 - PyTorch's F.one_hot, the same function as ag.one_hot
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
    if not training or p == 0:
        return x
    if p == 1:
        return x * np.zeros(x.shape, dtype=x.dtype)
    if isinstance(rng, np.random.Generator):
        generator = rng
    else:  # a seed: a generator made for this call, which a replay could not make again
        _tracing.refuse("dropout with rng given as a seed or None", "pass a numpy.random.Generator, or use nn.Dropout")
        generator = np.random.default_rng(rng)
    keep = (_tracing.draw(generator.random, x.shape) >= p).astype(x.dtype)
    return x * (keep / np.asarray(1 - p, dtype=x.dtype))


DEFINED_HERE = sorted({s.apply.__name__ for s in builtin_specs("composite") if s.apply.__module__ == __name__})
__all__ = sorted({*TOP_LEVEL, *_FUNCTIONAL_ONLY, *DEFINED_HERE, "one_hot", "put_along_axis"})
