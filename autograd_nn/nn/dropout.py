"""``Dropout2d``: channel-wise dropout (``Dropout``, element-wise, is in ``activation``)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import functional as F
from ..tensor import Tensor
from . import init
from .module import Module


class Dropout2d(Module):
    """In training mode, zero each channel of (N, C, H, W) with probability ``p`` and scale
    the rest by 1/(1 − p); in eval mode, the identity (PyTorch's ``nn.Dropout2d``).

    Draws from ``generator`` if given, else from the ``nn`` default generator
    (``nn.init.manual_seed`` seeds it). ``inplace`` is accepted and has no effect.
    """

    def __init__(self, p: float = 0.5, inplace: bool = False, *, generator: np.random.Generator | None = None):
        super().__init__()
        if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p <= 1:
            raise ValueError(f"Dropout2d: p must be a probability in [0, 1], got {p!r}")
        if generator is not None and not isinstance(generator, np.random.Generator):
            raise TypeError(f"Dropout2d: generator must be a numpy.random.Generator, got {type(generator).__name__}")
        self.p, self.inplace, self.generator = float(p), bool(inplace), generator

    def forward(self, input: Any) -> Tensor:
        rng = self.generator if self.generator is not None else init.default_generator()
        return F.dropout2d(input, self.p, self.training, rng=rng)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"
