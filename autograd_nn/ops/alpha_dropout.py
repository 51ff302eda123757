"""``alpha_dropout``: dropout that keeps a SELU network's activations at zero mean and unit
variance (PyTorch's ``F.alpha_dropout``)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..registry import register_composite
from ._random import uniform
from .activation_more import SELU_ALPHA, SELU_SCALE

# λα: SELU tends to −λα for very negative inputs; a dropped unit takes that value before
# the affine correction.
_SATURATION = SELU_SCALE * SELU_ALPHA


def _affine_constants(p: float) -> tuple[float, float]:
    """a, b with y = a·(x·m + α′(1 − m)) + b of zero mean and unit variance for unit inputs."""
    a = 1.0 / math.sqrt((_SATURATION**2 * p + 1) * (1 - p))
    return a, _SATURATION * a * p


def _reference(x: np.ndarray, p: float, training: bool, rng: int) -> np.ndarray:
    if not training or p == 0:
        return x
    keep = np.random.default_rng(rng).random(x.shape) >= p
    a, b = _affine_constants(p)
    return np.where(keep, a * x, -_SATURATION * a) + b


@register_composite(
    arity=1, reference=_reference, functional="alpha_dropout",
    params={"p": (0.0, 0.25, 0.5), "training": (True, False), "rng": (7,)},
)  # fmt: skip
def alpha_dropout(
    input: Any, p: float = 0.5, training: bool = False, inplace: bool = False, *, rng: np.random.Generator | int | None = None
) -> Any:
    """In training, each element is replaced with probability ``p`` by SELU's saturation
    value −λα, and the result mapped by a·y + b so that zero-mean unit-variance inputs
    keep those moments (PyTorch's constants); the identity otherwise.

    ``rng`` is a ``numpy.random.Generator`` or a seed (None: fresh entropy); ``inplace``
    is accepted for PyTorch compatibility and has no effect.
    """
    if not 0 <= p <= 1:
        raise ValueError(f"alpha_dropout: p must be in [0, 1], got {p}")
    if not training or p == 0:
        return input
    if p == 1:
        return input * np.zeros(input.shape, dtype=input.dtype)  # PyTorch: all zeros when every unit is dropped
    keep = uniform(rng, input.shape) >= p  # (a compiled step draws afresh, as eager)
    a, b = _affine_constants(p)
    scale = np.where(keep, a, 0.0).astype(input.dtype)
    shift = np.where(keep, b, b - _SATURATION * a).astype(input.dtype)
    return input * scale + shift
