"""Making tensors from data: ``tensor`` (always a copy) and ``as_tensor`` (no copy when it can)."""

from __future__ import annotations

from typing import Any

import numpy as np

from . import _tracing
from .tensor import Tensor


def tensor(data: Any, requires_grad: bool = False, dtype: Any = None) -> Tensor:
    """A new leaf Tensor holding a copy of ``data`` (as ``torch.tensor``).

    >>> import numpy as np, autograd_nn as ag
    >>> ag.tensor([1, 2], dtype=np.float32)
    Tensor([1., 2.], dtype=float32)
    """
    if isinstance(data, Tensor):
        data = data.data
    if data is None or isinstance(data, (str, bytes)):
        raise TypeError(f"tensor: cannot make a tensor from a {type(data).__name__}; give numbers or an array")
    if _tracing.recording() is not None and isinstance(data, np.ndarray) and type(data) is not np.ndarray:
        return Tensor(data.astype(dtype or data.dtype), requires_grad=requires_grad)  # a watched array's copy
    return Tensor(_tracing.made(np.array(data, dtype=dtype)), requires_grad=requires_grad)


def as_tensor(value: Any, dtype: Any = None) -> Tensor:
    """``value`` if it is a Tensor (of ``dtype``, when given), else a constant Tensor sharing its memory."""
    if isinstance(value, Tensor):
        return value if dtype is None or np.dtype(dtype) == value.dtype else value.astype(dtype)
    return Tensor(value, dtype=dtype)
