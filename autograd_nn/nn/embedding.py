"""``Embedding``: a lookup table of learnable vectors, one row per index (PyTorch's layer)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import functional as F
from .._default_dtype import resolve_float_dtype
from .._device import check_device
from ..tensor import Tensor
from . import init
from ._options import positive_int
from .module import Module
from .parameter import Parameter


class Embedding(Module):
    """z = W[indices]: ``weight`` (num_embeddings, embedding_dim), drawn from N(0, 1) as in
    PyTorch, with the ``padding_idx`` row zeroed and never updated (it gets no gradient).

    ``max_norm`` renormalises looked-up rows longer than it, in place; ``scale_grad_by_freq``
    divides each row's gradient by its count in the batch (see ``F.embedding``).

    >>> import numpy as np
    >>> from autograd_nn import nn
    >>> table = nn.Embedding(10, 3, padding_idx=0)
    >>> table(np.array([[1, 2, 0]])).shape, table.weight.data[0].tolist()
    ((1, 3, 3), [0.0, 0.0, 0.0])
    """

    def __init__(
        self, num_embeddings: int, embedding_dim: int, padding_idx: int | None = None, max_norm: float | None = None,
        norm_type: float = 2.0, scale_grad_by_freq: bool = False, sparse: bool = False, _weight: Any = None,
        _freeze: bool = False, device: Any = None, dtype: Any = None,
    ) -> None:  # fmt: skip
        super().__init__()
        check_device(device, "Embedding")
        if sparse:
            raise NotImplementedError("Embedding: sparse gradients are not supported; use sparse=False")
        self.num_embeddings = positive_int(num_embeddings, "num_embeddings", "Embedding")
        self.embedding_dim = positive_int(embedding_dim, "embedding_dim", "Embedding")
        if padding_idx is not None:
            if not -self.num_embeddings <= padding_idx < self.num_embeddings:
                raise ValueError(f"Embedding: padding_idx must be within num_embeddings, got {padding_idx}")
            padding_idx %= self.num_embeddings
        self.padding_idx, self.max_norm, self.norm_type = padding_idx, max_norm, norm_type
        self.scale_grad_by_freq, self.sparse = bool(scale_grad_by_freq), False
        shape = (self.num_embeddings, self.embedding_dim)
        if _weight is None:
            self.weight = Parameter(np.empty(shape, dtype=resolve_float_dtype(dtype, "Embedding")), requires_grad=not _freeze)
            self.reset_parameters()
        else:
            data = np.array(_weight.data if isinstance(_weight, Tensor) else _weight, dtype=dtype)
            if data.shape != shape:
                raise ValueError(f"Embedding: _weight must have shape {shape}, got {data.shape}")
            self.weight = Parameter(data, requires_grad=not _freeze)

    def reset_parameters(self, generator: np.random.Generator | None = None) -> None:
        """weight ~ N(0, 1), the padding row zeroed (PyTorch's initialisation)."""
        init.normal_(self.weight, generator=generator)
        if self.padding_idx is not None:
            self.weight.data[self.padding_idx] = 0
            self.weight._increment_version()

    @classmethod
    def from_pretrained(
        cls, embeddings: Any, freeze: bool = True, padding_idx: int | None = None, max_norm: float | None = None,
        norm_type: float = 2.0, scale_grad_by_freq: bool = False, sparse: bool = False,
    ) -> Embedding:  # fmt: skip
        """An Embedding whose weight is a copy of ``embeddings`` (2-D), frozen unless ``freeze=False``."""
        data = np.asarray(embeddings.data if isinstance(embeddings, Tensor) else embeddings)
        if data.ndim != 2:
            raise ValueError(f"Embedding.from_pretrained: embeddings must be 2-D, got shape {data.shape}")
        return cls(
            data.shape[0], data.shape[1], padding_idx, max_norm, norm_type, scale_grad_by_freq, sparse,
            _weight=data, _freeze=freeze, dtype=data.dtype,
        )  # fmt: skip

    def forward(self, input: Any) -> Tensor:
        return F.embedding(
            input, self.weight, self.padding_idx, self.max_norm, self.norm_type, self.scale_grad_by_freq, self.sparse
        )

    def extra_repr(self) -> str:
        text = f"{self.num_embeddings}, {self.embedding_dim}"
        for name, default in (("padding_idx", None), ("max_norm", None), ("norm_type", 2.0)):
            if getattr(self, name) != default:
                text += f", {name}={getattr(self, name)}"
        if self.scale_grad_by_freq:
            text += ", scale_grad_by_freq=True"
        return text
