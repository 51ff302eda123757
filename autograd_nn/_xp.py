"""The two array namespaces a derivative formula is written against (``ctx.xp``).

``numpy_namespace`` serves a plain backward over ndarrays. ``tensor_namespace`` has the
same names over Tensors and is filled in by ``autograd_nn.ops``; the engine swaps it in
under ``create_graph=True`` so every formula is differentiable again.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np


def sigmoid(z: np.ndarray) -> np.ndarray:
    """σ(z) = 1 / (1 + e⁻ᶻ), computed as ½(1 + tanh(z/2))."""
    # NOTE: the tanh form never overflows (1/(1+exp(-z)) does for z < -88 in float32)
    # and costs one transcendental pass; its absolute error is one ulp of 1, so use
    # log_softmax / the *_with_logits losses rather than log(sigmoid(z)) in the far tail.
    a = np.tanh(z * 0.5)
    a += 1
    a *= 0.5
    return a


def is_basic_index(index: Any) -> bool:
    """True if ``index`` selects each element at most once (no integer arrays)."""
    items = index if isinstance(index, tuple) else (index,)
    for item in items:
        if isinstance(item, (slice, int, np.integer)) or item is None or item is Ellipsis:
            continue
        if isinstance(item, np.ndarray) and item.dtype == bool:
            continue
        return False
    return True


def index_add(shape: tuple[int, ...], index: Any, values: np.ndarray) -> np.ndarray:
    """zeros(shape) with ``values`` added at ``index``; repeated indices accumulate."""
    out = np.zeros(shape, dtype=values.dtype)
    if is_basic_index(index):
        out[index] = values
    else:
        np.add.at(out, index, values)
    return out


numpy_namespace = SimpleNamespace(
    exp=np.exp,
    log=np.log,
    sign=np.sign,
    where=np.where,
    maximum=np.maximum,
    matmul=np.matmul,
    broadcast_to=np.broadcast_to,
    sigmoid=sigmoid,
    index_add=index_add,
)

# Filled by autograd_nn.ops with the same names, implemented as recorded ops.
tensor_namespace = SimpleNamespace()
