"""Embeddings: rows of a weight matrix looked up by index (``F.embedding``, PyTorch's
signature), with ``padding_idx``, ``max_norm`` and ``scale_grad_by_freq``."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import _tracing
from .._record import array_of, is_tensor
from ..function import Function
from ..registry import register_composite, register_op
from ._kept import kept


def _lookup_shapes(draw: Any) -> tuple[list[tuple[int, ...]], dict[str, Any]]:
    from hypothesis import strategies as st  # a test-time dependency, imported only here

    rows, dim = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    shape = tuple(draw(st.lists(st.integers(1, 3), max_size=2)))
    size = math.prod(shape)
    indices = np.array(draw(st.lists(st.integers(0, rows - 1), min_size=size, max_size=size)), dtype=np.int64)
    return [(rows, dim)], {"indices": indices.reshape(shape)}


def checked_indices(indices: Any, rows: int, op_name: str) -> np.ndarray:
    """``indices`` as an integer array, every one in [0, rows)."""
    indices = np.asanyarray(array_of(indices))
    if not np.issubdtype(indices.dtype, np.integer):
        raise TypeError(f"{op_name}: indices must be integers, got dtype {indices.dtype}")
    if indices.size and (indices.min() < 0 or indices.max() >= rows):
        raise IndexError(
            f"{op_name}: indices must be in [0, {rows}) for a weight of {rows} rows, got values in "
            f"[{indices.min()}, {indices.max()}]"
        )
    return indices


def _lookup_primitives(weight: Any, indices: Any, padding_idx: int | None = None, scale_grad_by_freq: bool = False):
    """What Embedding computes, in primitives: W[indices] (its gradient rules aside)."""
    return weight[indices]


@register_op(reference=lambda w, indices: w[indices], shapes=_lookup_shapes, decomposition=_lookup_primitives)
class Embedding(Function):
    """z = W[indices];  δW = δz's rows added up at their indices (none at padding_idx; ÷ their count with scale_grad_by_freq)

    As in PyTorch, the row ``padding_idx`` gets no gradient, and with
    ``scale_grad_by_freq`` each row's gradient is divided by how often it was looked up.
    """

    @staticmethod
    def forward(
        ctx: Any, weight: Any, *, indices: Any, padding_idx: int | None = None, scale_grad_by_freq: bool = False
    ) -> Any:
        if np.ndim(weight) != 2:
            raise ValueError(f"embedding: weight must have shape (num_embeddings, embedding_dim), got {np.shape(weight)}")
        indices = kept(ctx, checked_indices(indices, weight.shape[0], "embedding"))  # the caller may reuse its array
        ctx.indices, ctx.shape, ctx.scale = indices, weight.shape, None
        if padding_idx is not None or scale_grad_by_freq:
            # (made from indices, not np.ones: a compiled step must see the scale made)
            scale = np.ones_like(indices, dtype=weight.dtype)
            if scale_grad_by_freq:
                scale /= np.bincount(indices.ravel(), minlength=weight.shape[0])[indices]
            if padding_idx is not None:
                scale *= indices != padding_idx
            ctx.scale = scale[..., None]
        return weight[indices]

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        if ctx.scale is not None:
            grad = grad * ctx.scale
        return ctx.xp.index_add(ctx.shape, ctx.indices, grad)


def _renorm(weight: Any, indices: np.ndarray, max_norm: float, norm_type: float) -> None:
    """Scale the looked-up rows whose norm exceeds ``max_norm`` down to it, in place
    (PyTorch's ``embedding_renorm_``: factor max_norm / (norm + 1e-7)); not recorded.

    Every looked-up row is multiplied (by 1, exactly, when it is short enough) rather than
    only those found too long: no branch on the values, so a compiled step (which watches
    the weight) renormalises on every replay as eager does.

    The rows are every looked-up index, repeats included, not ``np.unique``'s: its length is
    the number of distinct indices, a value a replay cannot follow (its buffers keep the
    recording's length). A repeated row gets the same factor each time (from the same
    norm), so writing it once per repeat leaves what writing it once would."""
    if is_tensor(weight) and _tracing.recording() is not None:
        _tracing.adopt((weight,))
    data = array_of(weight)
    rows = indices.reshape(-1)
    norms = np.linalg.norm(data[rows], ord=norm_type, axis=1)
    factor = np.where(norms > max_norm, max_norm / (norms + 1e-7), 1.0)
    data[rows] *= factor[:, None].astype(data.dtype)
    if is_tensor(weight):
        weight._increment_version()


def _embedding_args(
    input: Any, weight: Any, padding_idx: int | None = None, max_norm: float | None = None, norm_type: float = 2.0,
    scale_grad_by_freq: bool = False, sparse: bool = False,
) -> tuple[tuple[Any, ...], dict[str, Any]]:  # fmt: skip
    params = {"padding_idx": padding_idx, "max_norm": max_norm, "norm_type": norm_type}
    return (weight,), {"input": input, **params, "scale_grad_by_freq": scale_grad_by_freq, "sparse": sparse}


def _embedding_shapes(draw: Any) -> tuple[list[tuple[int, ...]], dict[str, Any]]:
    shapes, params = _lookup_shapes(draw)
    return shapes, {"input": params["indices"]}


def _embedding_call(inputs: Any, params: dict[str, Any]) -> tuple[tuple[Any, ...], dict[str, Any]]:
    return (params["input"], inputs[0]), {}


@register_composite(
    shapes=_embedding_shapes, reference=lambda w, input: w[input], functional="embedding",
    parse=_embedding_args, arguments=_embedding_call,
)  # fmt: skip
def embedding(
    weight: Any, *, input: Any, padding_idx: int | None = None,
    max_norm: float | None = None, norm_type: float = 2.0, scale_grad_by_freq: bool = False, sparse: bool = False,
) -> Any:  # fmt: skip
    """Rows of ``weight`` (num_embeddings, embedding_dim) at the integer ``input``, shape
    input.shape + (embedding_dim,) (PyTorch's ``F.embedding``).

    ``padding_idx``: that row gets no gradient. ``max_norm``: looked-up rows longer than it
    (in the ``norm_type`` norm) are first scaled down to it, in place, as in PyTorch.
    ``scale_grad_by_freq``: each row's gradient is divided by its count in ``input``.
    ``sparse`` gradients are not supported.
    """
    if sparse:
        raise NotImplementedError("embedding: sparse gradients are not supported; use sparse=False")
    rows = weight.shape[0]
    indices = checked_indices(input, rows, "embedding")
    if padding_idx is not None:
        if not -rows <= padding_idx < rows:
            raise ValueError(f"embedding: padding_idx must be within [{-rows}, {rows}), got {padding_idx}")
        padding_idx = padding_idx % rows
    if max_norm is not None:
        _renorm(weight, indices, max_norm, norm_type)
    return Embedding.apply(weight, indices=indices, padding_idx=padding_idx, scale_grad_by_freq=scale_grad_by_freq)
