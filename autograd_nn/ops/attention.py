"""``scaled_dot_product_attention``: softmax(q kᵀ · scale + mask) v, batched over any
leading axes, PyTorch's functional form and mask conventions.

It is a composite: two batched matmuls around the (stable, max-shifted) softmax
primitive, so its derivatives of every order come from theirs.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .._record import array_of, is_tensor
from ..registry import register_composite
from ._random import uniform
from .activation import Softmax
from .linalg import Matmul


def additive_mask(mask: Any, dtype: np.dtype) -> Any:
    """A mask as a term added to the scores: a boolean mask (True: may attend, PyTorch's
    SDPA convention) becomes 0 / −inf; a float mask is used as it is (it may be a Tensor)."""
    if mask is None:
        return None
    if is_tensor(mask) and np.issubdtype(mask.dtype, np.floating):
        return mask
    mask = np.asanyarray(array_of(mask))
    if mask.dtype == np.bool_:
        return np.where(mask, 0.0, -np.inf).astype(dtype)
    if np.issubdtype(mask.dtype, np.floating):
        return mask.astype(dtype, copy=False)
    raise TypeError(f"scaled_dot_product_attention: attn_mask must be boolean or floating point, got {mask.dtype}")


def causal_mask(queries: int, keys: int) -> np.ndarray:
    """True where query i may attend to key j: j ≤ i (aligned at the top left, as PyTorch)."""
    return np.tril(np.ones((queries, keys), dtype=bool))


def attention_weights(query: Any, key: Any, mask: Any, scale: float) -> Any:
    """softmax(q kᵀ · scale + mask) over the keys: shape (..., L, S).

    A query whose keys are all masked out gets weights 0 (as PyTorch's safe softmax), not
    0/0: its row of the mask is replaced by 0 before the softmax and the row zeroed after,
    so no nan reaches the output or the gradients.
    """
    scores = Matmul.apply(query * scale, key.swapaxes(-1, -2))
    blocked = None
    if mask is not None:
        if not is_tensor(mask):
            blocked = np.all(np.isneginf(mask), axis=-1, keepdims=True)
            # A plain mask (a constant) may skip the fix when no row is blocked; a mask a
            # compiled step watches (made from its inputs) must not branch on its values.
            if type(blocked) is np.ndarray and not blocked.any():
                blocked = None
            else:
                mask = np.where(blocked, 0, mask).astype(mask.dtype, copy=False)
        scores = scores + mask
    weights = Softmax.apply(scores, axis=-1)
    return weights if blocked is None else weights * (~blocked).astype(weights.dtype)


def _sdpa_shapes(draw: Any) -> tuple[list[tuple[int, ...]], dict[str, Any]]:
    from hypothesis import strategies as st  # a test-time dependency, imported only here

    batch = tuple(draw(st.lists(st.integers(1, 2), max_size=2)))
    queries, keys, width, value_width = (draw(st.integers(1, 3)) for _ in range(4))
    shapes = [batch + (queries, width), batch + (keys, width), batch + (keys, value_width)]
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    kind = draw(st.sampled_from(("none", "bool", "float", "causal")))
    mask = None
    if kind == "bool":
        mask = rng.random((queries, keys)) < 0.6
        mask[np.arange(queries), rng.integers(0, keys, queries)] = True  # every query attends somewhere
    elif kind == "float":
        mask = rng.standard_normal((queries, keys))
    scale = draw(st.sampled_from((None, 0.7)))
    return shapes, {"attn_mask": mask, "is_causal": kind == "causal", "scale": scale}


def _sdpa_reference(q, k, v, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None, **_: Any) -> np.ndarray:
    scores = q @ k.swapaxes(-1, -2) * (1 / math.sqrt(q.shape[-1]) if scale is None else scale)
    if is_causal:
        scores = np.where(causal_mask(q.shape[-2], k.shape[-2]), scores, -np.inf)
    if attn_mask is not None:
        scores = np.where(attn_mask, scores, -np.inf) if attn_mask.dtype == bool else scores + attn_mask
    e = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True) @ v


@register_composite(shapes=_sdpa_shapes, reference=_sdpa_reference, functional="scaled_dot_product_attention")
def scaled_dot_product_attention(
    query: Any, key: Any, value: Any, attn_mask: Any = None, dropout_p: float = 0.0, is_causal: bool = False,
    scale: float | None = None, enable_gqa: bool = False, *, rng: np.random.Generator | int | None = None,
) -> Any:  # fmt: skip
    """softmax(q kᵀ · scale + mask) v for q (..., L, E), k (..., S, E), v (..., S, Ev)
    (PyTorch's ``F.scaled_dot_product_attention``); ``scale`` defaults to 1/√E.

    ``attn_mask`` broadcasts to (..., L, S): boolean (True: may attend) or a float term
    added to the scores. ``is_causal``: query i attends to keys j ≤ i. ``dropout_p``:
    dropout on the attention weights, drawn from ``rng`` (a Generator or a seed).
    ``enable_gqa``: k and v may have fewer heads (axis −3) than q, each shared by a group.
    """
    dtype = query.dtype
    queries, keys = query.shape[-2], key.shape[-2]
    if query.shape[-1] != key.shape[-1] or key.shape[-2] != value.shape[-2]:
        raise ValueError(
            f"scaled_dot_product_attention: query (..., L, E) {query.shape}, key (..., S, E) {key.shape} and value "
            f"(..., S, Ev) {value.shape} do not fit"
        )
    if is_causal and attn_mask is not None:
        raise ValueError("scaled_dot_product_attention: pass either attn_mask or is_causal=True, not both")
    if enable_gqa and query.ndim >= 3 and key.shape[-3] != query.shape[-3]:
        heads, kv_heads = query.shape[-3], key.shape[-3]
        if heads % kv_heads:
            raise ValueError(f"scaled_dot_product_attention: {heads} query heads cannot share {kv_heads} key heads")
        groups = np.repeat(np.arange(kv_heads), heads // kv_heads)
        key, value = key[..., groups, :, :], value[..., groups, :, :]
    mask = additive_mask(causal_mask(queries, keys) if is_causal else attn_mask, dtype)
    factor = 1 / math.sqrt(query.shape[-1]) if scale is None else scale
    weights = attention_weights(query, key, mask, factor)
    if dropout_p > 0:  # as F.dropout: zero each weight with probability p, scale the rest by 1/(1 − p)
        if not 0 <= dropout_p <= 1:
            raise ValueError(f"scaled_dot_product_attention: dropout_p must be in [0, 1], got {dropout_p}")
        keep = uniform(rng, weights.shape) >= dropout_p  # (a compiled step draws afresh, as eager)
        weights = weights * (keep / max(1 - dropout_p, 1e-300)).astype(dtype)
    return Matmul.apply(weights, value)
