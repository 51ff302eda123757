"""Constructor options the layers share with PyTorch's: ``device`` and ``dtype``."""

from __future__ import annotations

from typing import Any

import numpy as np


def float_dtype(dtype: Any, owner: str) -> np.dtype:
    """The dtype new parameters get: ``dtype``, or float64 (numpy's default float) if None."""
    dtype = np.dtype(np.float64 if dtype is None else dtype)
    if not np.issubdtype(dtype, np.floating):
        raise TypeError(f"{owner}: dtype must be a floating-point type, got {dtype}")
    return dtype


def check_device(device: Any, owner: str) -> None:
    """autograd_nn computes with numpy on the CPU: ``device`` may be None or 'cpu'."""
    if device is not None and str(device) != "cpu":
        raise ValueError(f"{owner}: autograd_nn computes on the CPU with numpy; device must be None or 'cpu', got {device!r}")


def positive_int(value: Any, name: str, owner: str) -> int:
    """``value`` as an int ≥ 1, or a ValueError naming it."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{owner}: {name} must be a positive int, got {value!r}")
    return int(value)
