"""The default floating-point dtype: what a layer's new parameters get when no ``dtype`` is given.

``float64`` unless changed. PyTorch's default is float32; ours is numpy's default float,
because users feed numpy arrays, and ``np.array([0.5])``, ``np.random.normal(...)`` and every
numpy reduction are float64: a float64 model takes them as they are, while a float32 one
would refuse them (a layer's input must have its parameters' dtype, as in PyTorch). float64
also keeps finite-difference gradient checks meaningful. Choose float32 for speed and half
the memory: ``ag.set_default_dtype(np.float32)`` before building the model, or per layer with
``dtype=``, or afterwards with ``model.float()``.

One setting for the whole process (as ``torch.set_default_dtype``), not per thread: set it
once, before building models.
"""

from __future__ import annotations

from typing import Any

import numpy as np

# numpy's floating types that numpy computes in everywhere (longdouble is platform-dependent)
FLOATING = (np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.float64))

_default = np.dtype(np.float64)


def _floating(dtype: Any, owner: str) -> np.dtype:
    try:
        resolved = np.dtype(dtype)
    except TypeError as error:
        raise TypeError(f"{owner}: {dtype!r} is not a dtype; expected one of float16, float32, float64") from error
    if resolved not in FLOATING:
        raise TypeError(f"{owner}: only floating-point dtypes are supported (float16, float32, float64), got {resolved}")
    return resolved


def set_default_dtype(dtype: Any) -> None:
    """Make ``dtype`` (float16, float32 or float64) what new parameters use when no ``dtype`` is given.

    >>> import numpy as np, autograd_nn as ag
    >>> ag.set_default_dtype(np.float32)
    >>> ag.nn.Linear(2, 3).weight.dtype
    dtype('float32')
    >>> ag.set_default_dtype(np.float64)
    """
    global _default
    _default = _floating(dtype, "set_default_dtype")


def get_default_dtype() -> np.dtype:
    """The dtype new parameters get when none is given (``float64`` unless ``set_default_dtype`` changed it)."""
    return _default


def resolve_float_dtype(dtype: Any, owner: str) -> np.dtype:
    """``dtype`` as a numpy floating dtype, or the default one for ``None``; ``owner`` names the caller in errors."""
    return _default if dtype is None else _floating(dtype, owner)
