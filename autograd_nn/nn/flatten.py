"""``Flatten`` and ``Unflatten``: reshaping layers (a view of the input, no copy), as PyTorch's."""

from __future__ import annotations

import math
import operator
from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import functional as F
from ..tensor import Tensor
from .module import Module


def _axis(owner: str, name: str, dim: int, ndim: int) -> int:
    # a 0-d input counts as 1-d, as in torch.flatten
    rank = max(ndim, 1)
    if not -rank <= dim < rank:
        raise IndexError(
            f"{owner}: {name}={dim} is out of range for an input with {ndim} dimension(s) "
            f"(expected a dim in [{-rank}, {rank - 1}])"
        )
    return dim % rank


def _shape(input: Any) -> tuple[int, ...]:
    return input.shape if isinstance(input, (Tensor, np.ndarray)) else np.shape(input)


class Flatten(Module):
    """Merge the axes ``start_dim`` .. ``end_dim`` into one: (N, C, H, W) → (N, C·H·W) by default.

    >>> import numpy as np
    >>> from autograd_nn import nn
    >>> nn.Flatten()(np.zeros((2, 3, 4, 5))).shape
    (2, 60)
    >>> nn.Flatten(0, 1)(np.zeros((2, 3, 4))).shape
    (6, 4)
    """

    def __init__(self, start_dim: int = 1, end_dim: int = -1):
        super().__init__()
        self.start_dim = operator.index(start_dim)
        self.end_dim = operator.index(end_dim)

    def forward(self, input: Any) -> Tensor:
        shape = _shape(input)
        start = _axis("Flatten", "start_dim", self.start_dim, len(shape))
        end = _axis("Flatten", "end_dim", self.end_dim, len(shape))
        if start > end:
            raise ValueError(
                f"Flatten: start_dim={self.start_dim} comes after end_dim={self.end_dim} for an input of shape {shape}"
            )
        if not shape:
            return F.reshape(input, (1,))
        merged = math.prod(shape[start : end + 1])
        return F.reshape(input, shape[:start] + (merged,) + shape[end + 1 :])

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Split axis ``dim`` into ``unflattened_size``: (N, 60) → (N, 3, 4, 5) with ``Unflatten(1, (3, 4, 5))``.

    One entry of ``unflattened_size`` may be -1, inferred from the others.

    >>> import numpy as np
    >>> from autograd_nn import nn
    >>> nn.Unflatten(1, (3, -1))(np.zeros((2, 12))).shape
    (2, 3, 4)
    """

    def __init__(self, dim: int, unflattened_size: Sequence[int]):
        super().__init__()
        self.dim = operator.index(dim)
        sizes = tuple(operator.index(s) for s in unflattened_size)
        if not sizes or sizes.count(-1) > 1 or any(s < -1 for s in sizes):
            raise ValueError(
                f"Unflatten: unflattened_size must be a non-empty sequence of sizes ≥ 0 with at most one -1, "
                f"got {tuple(unflattened_size)}"
            )
        self.unflattened_size = sizes

    def forward(self, input: Any) -> Tensor:
        shape = _shape(input)
        if not shape:
            raise ValueError("Unflatten: the input is 0-dimensional; there is no axis to split")
        dim = _axis("Unflatten", "dim", self.dim, len(shape))
        sizes, size = self.unflattened_size, shape[dim]
        known = math.prod(s for s in sizes if s != -1)
        if -1 in sizes and known and size % known == 0:
            sizes = tuple(size // known if s == -1 else s for s in sizes)
        if math.prod(sizes) != size or -1 in sizes:
            raise ValueError(
                f"Unflatten: sizes {self.unflattened_size} don't multiply up to the size of dim {self.dim} ({size}) "
                f"of the input, shape {shape}"
            )
        return F.reshape(input, shape[:dim] + sizes + shape[dim + 1 :])

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"
