"""``MultiheadAttention``: PyTorch's layer, with its parameters (``in_proj_weight``,
``in_proj_bias``, ``out_proj``; ``q/k/v_proj_weight`` when key and value widths differ),
initialisation, masks and ``need_weights``."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import functional as F
from .._default_dtype import resolve_float_dtype
from .._device import check_device
from ..creation import as_tensor
from ..tensor import Tensor
from . import init
from ._checks import check_input_dtype
from ._options import positive_int
from .linear import Linear
from .module import Module
from .parameter import Parameter


def _blocking(mask: Any, dtype: np.dtype, name: str) -> Any:
    """A PyTorch-style mask as a term added to the scores: for a boolean mask True means
    *blocked* (−inf); a float mask is added as it is."""
    if mask is None:
        return None
    if isinstance(mask, Tensor) and np.issubdtype(mask.dtype, np.floating):
        return mask.astype(dtype) if mask.dtype != dtype else mask
    array = np.asanyarray(mask.data if isinstance(mask, Tensor) else mask)
    if array.dtype == np.bool_:
        return np.where(array, -np.inf, 0.0).astype(dtype)
    if np.issubdtype(array.dtype, np.floating):
        return array.astype(dtype, copy=False)
    raise TypeError(f"MultiheadAttention: {name} must be boolean or floating point, got dtype {array.dtype}")


class MultiheadAttention(Module):
    """Attention over ``num_heads`` heads of width E/h: q, k, v = x W_qᵀ, x W_kᵀ, x W_vᵀ (+ b),
    each head softmax(q kᵀ/√d + mask) v, heads concatenated and mapped by ``out_proj``.

    ``forward(query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
    average_attn_weights=True, is_causal=False)`` returns ``(output, weights)``; inputs are
    (L, N, E) ((N, L, E) if ``batch_first``; (L, E) unbatched). Boolean masks follow
    PyTorch: True *blocks* attention (``key_padding_mask`` (N, S): padded keys;
    ``attn_mask`` (L, S) or (N·h, L, S)); float masks are added to the scores. The weights,
    (N, L, S) averaged over heads (or (N, h, L, S)), are returned when ``need_weights``.
    """

    def __init__(
        self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True, add_bias_kv: bool = False,
        add_zero_attn: bool = False, kdim: int | None = None, vdim: int | None = None, batch_first: bool = False,
        device: Any = None, dtype: Any = None,
    ) -> None:  # fmt: skip
        super().__init__()
        check_device(device, "MultiheadAttention")
        dtype = resolve_float_dtype(dtype, "MultiheadAttention")
        self.embed_dim = positive_int(embed_dim, "embed_dim", "MultiheadAttention")
        self.num_heads = positive_int(num_heads, "num_heads", "MultiheadAttention")
        if self.embed_dim % self.num_heads:
            raise ValueError(f"MultiheadAttention: embed_dim ({embed_dim}) must be divisible by num_heads ({num_heads})")
        self.kdim = self.embed_dim if kdim is None else kdim
        self.vdim = self.embed_dim if vdim is None else vdim
        self._qkv_same_embed_dim = self.kdim == self.embed_dim and self.vdim == self.embed_dim
        self.head_dim = self.embed_dim // self.num_heads
        self.dropout, self.batch_first, self.add_zero_attn = float(dropout), bool(batch_first), bool(add_zero_attn)
        E = self.embed_dim
        if self._qkv_same_embed_dim:
            self.in_proj_weight = Parameter(np.empty((3 * E, E), dtype=dtype))
            for name in ("q_proj_weight", "k_proj_weight", "v_proj_weight"):
                self.register_parameter(name, None)
        else:
            self.q_proj_weight = Parameter(np.empty((E, E), dtype=dtype))
            self.k_proj_weight = Parameter(np.empty((E, self.kdim), dtype=dtype))
            self.v_proj_weight = Parameter(np.empty((E, self.vdim), dtype=dtype))
            self.register_parameter("in_proj_weight", None)
        if bias:
            self.in_proj_bias = Parameter(np.zeros(3 * E, dtype=dtype))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = Linear(E, E, bias=bias, dtype=dtype)
        if add_bias_kv:
            self.bias_k = Parameter(np.empty((1, 1, E), dtype=dtype))
            self.bias_v = Parameter(np.empty((1, 1, E), dtype=dtype))
        else:
            self.bias_k = self.bias_v = None
        self._reset_parameters()

    def _reset_parameters(self, generator: np.random.Generator | None = None) -> None:
        """PyTorch's: Xavier-uniform projections, zero biases, Xavier-normal bias_k/bias_v
        (``out_proj.weight`` keeps Linear's initialisation)."""
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight, generator=generator)
        else:
            for weight in (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight):
                init.xavier_uniform_(weight, generator=generator)
        if self.in_proj_bias is not None:
            init.zeros_(self.in_proj_bias)
            init.zeros_(self.out_proj.bias)
        for extra in (self.bias_k, self.bias_v):
            if extra is not None:
                init.xavier_normal_(extra, generator=generator)

    def _projections(self, query: Tensor, key: Tensor, value: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        E, b = self.embed_dim, self.in_proj_bias
        biases = (None, None, None) if b is None else (b[:E], b[E : 2 * E], b[2 * E :])
        if not self._qkv_same_embed_dim:
            weights = (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight)
            return tuple(F.linear(x, w, c) for x, w, c in zip((query, key, value), weights, biases))  # type: ignore[return-value]
        if query is key and key is value:  # self-attention: one GEMM for q, k and v
            qkv = F.linear(query, self.in_proj_weight, b)
            return qkv[..., :E], qkv[..., E : 2 * E], qkv[..., 2 * E :]
        w = self.in_proj_weight
        weights = (w[:E], w[E : 2 * E], w[2 * E :])
        return tuple(F.linear(x, w_, c) for x, w_, c in zip((query, key, value), weights, biases))  # type: ignore[return-value]

    def forward(
        self, query: Any, key: Any, value: Any, key_padding_mask: Any = None, need_weights: bool = True,
        attn_mask: Any = None, average_attn_weights: bool = True, is_causal: bool = False,
    ) -> tuple[Tensor, Tensor | None]:  # fmt: skip
        same = query is key and key is value
        query = as_tensor(query)
        key, value = (query, query) if same else (as_tensor(key), as_tensor(value))
        dtype = (self.in_proj_weight if self._qkv_same_embed_dim else self.q_proj_weight).dtype
        for tensor in (query,) if same else (query, key, value):
            check_input_dtype(self, tensor, dtype)
        batched = query.ndim == 3
        if query.ndim not in (2, 3) or key.ndim != query.ndim or value.ndim != query.ndim:
            raise ValueError(
                f"MultiheadAttention: query, key and value must all be 3-D (batched) or 2-D (unbatched), got shapes "
                f"{query.shape}, {key.shape}, {value.shape}"
            )
        if is_causal and attn_mask is None:
            raise RuntimeError("MultiheadAttention: is_causal=True is a hint that attn_mask is the causal mask; pass attn_mask too")  # fmt: skip
        if not batched:
            query, key, value = (t.reshape((t.shape[0], 1, t.shape[1])) for t in (query, key, value))
            if key_padding_mask is not None:
                key_padding_mask = np.asanyarray(key_padding_mask.data if isinstance(key_padding_mask, Tensor) else key_padding_mask)[None]
        elif self.batch_first:
            query, key, value = (t.swapaxes(0, 1) for t in (query, key, value))
        if same:
            key = value = query
        if query.shape[-1] != self.embed_dim:
            raise ValueError(f"MultiheadAttention: expected query of width {self.embed_dim}, got shape {query.shape}")
        q, k, v = self._projections(query, key, value)  # (L, N, E), (S, N, E), (S, N, E)
        L, N, E = q.shape
        h, d = self.num_heads, self.head_dim
        dtype = q.dtype
        attn = _blocking(attn_mask, dtype, "attn_mask")
        padding = _blocking(key_padding_mask, dtype, "key_padding_mask")
        if self.bias_k is not None:  # one more key and value, learnt, that every query sees
            k = F.concatenate([k, self.bias_k.broadcast_to((1, N, E))], axis=0)
            v = F.concatenate([v, self.bias_v.broadcast_to((1, N, E))], axis=0)
            attn, padding = _pad_keys(attn), _pad_keys(padding)
        # (T, N, E) → (N, h, T, d): each head a batch of its own
        q, k, v = (t.reshape((t.shape[0], N, h, d)).transpose(1, 2, 0, 3) for t in (q, k, v))
        if self.add_zero_attn:  # one more key and value of zeros
            zeros = np.zeros((N, h, 1, d), dtype=dtype)
            k, v = F.concatenate([k, zeros], axis=2), F.concatenate([v, zeros], axis=2)
            attn, padding = _pad_keys(attn), _pad_keys(padding)
        S = k.shape[2]
        mask = None
        if attn is not None:
            mask = attn.reshape((N, h, L, S)) if attn.ndim == 3 else attn
        if padding is not None:
            padding = padding.reshape((N, 1, 1, S))
            mask = padding if mask is None else mask + padding
        dropout = self.dropout if self.training else 0.0
        if not need_weights:  # PyTorch's fast path: the same numbers, without the weights
            out = F.scaled_dot_product_attention(q, k, v, mask, dropout, rng=init.default_generator())
            return self._output(out, L, N, batched), None
        scores = F.matmul(q * (1 / math.sqrt(d)), k.swapaxes(-1, -2))
        if mask is not None:
            scores = scores + mask
        weights = F.softmax(scores, axis=-1)
        if dropout:
            weights = F.dropout(weights, dropout, rng=init.default_generator())
        out = self._output(F.matmul(weights, v), L, N, batched)
        if average_attn_weights:
            weights = weights.mean(axis=1)
        return out, (weights if batched else weights[0])

    def _output(self, heads: Tensor, L: int, N: int, batched: bool) -> Tensor:
        """(N, h, L, d) → (L, N, E) → out_proj, back to the caller's layout."""
        out = heads.transpose(2, 0, 1, 3).reshape((L, N, self.embed_dim))
        out = F.linear(out, self.out_proj.weight, self.out_proj.bias)
        if not batched:
            return out.reshape((L, self.embed_dim))
        return out.swapaxes(0, 1) if self.batch_first else out


def _pad_keys(mask: Any) -> Any:
    """A mask with one more key column, not blocked (for bias_k and add_zero_attn)."""
    if mask is None:
        return None
    pad = np.zeros(np.shape(mask)[:-1] + (1,), dtype=mask.dtype)
    return F.concatenate([mask, pad], axis=-1) if isinstance(mask, Tensor) else np.concatenate([mask, pad], axis=-1)
