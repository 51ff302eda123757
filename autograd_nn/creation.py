"""Making tensors: from data (``tensor`` always copies, ``as_tensor`` shares when it can)
and from a shape (``zeros``, ``ones``, ``full``, ``empty``, ``arange``, ``linspace``,
``eye``), with numpy's signatures and defaults (float64) plus PyTorch's ``dtype=`` and
``requires_grad=``; ``one_hot`` and ``unravel_index`` for integer labels and indices.
Random tensors are in ``autograd_nn.random``; ``zeros_like`` and friends are ops
(``ops/creation_like.py``), so that ``np.zeros_like(t)`` reaches them.
"""

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


def shape_of(name: str, shape: tuple[Any, ...]) -> tuple[int, ...]:
    """A shape from numpy's ``zeros((2, 3))`` or PyTorch's ``zeros(2, 3)``."""
    if len(shape) == 1 and not isinstance(shape[0], (int, np.integer)):
        shape = tuple(shape[0])
    if not all(isinstance(n, (int, np.integer)) and not isinstance(n, bool) and n >= 0 for n in shape):
        raise ValueError(f"{name}: a shape is non-negative ints, got {shape!r}")
    return tuple(int(n) for n in shape)


def _leaf(name: str, array: np.ndarray, requires_grad: bool) -> Tensor:
    if requires_grad and array.dtype.kind != "f":
        raise TypeError(
            f"{name}: only floating-point tensors can require gradients, got dtype {array.dtype}; pass dtype=np.float64"
        )
    # made as ``tensor`` makes its copy: a compiled step that creates a tensor replays it, where
    # a plain array was a tensor the recording had not seen made, new on every call (a
    # different recording each time, blamed on "state kept in Python")
    return Tensor(_tracing.made(array), requires_grad=requires_grad)


def zeros(*shape: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of zeros: ``zeros((2, 3))`` (numpy) or ``zeros(2, 3)`` (PyTorch); float64 by default."""
    return _leaf("zeros", np.zeros(shape_of("zeros", shape), dtype=dtype), requires_grad)


def ones(*shape: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of ones: ``ones((2, 3))`` or ``ones(2, 3)``; float64 by default."""
    return _leaf("ones", np.ones(shape_of("ones", shape), dtype=dtype), requires_grad)


def empty(*shape: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of the given shape, filled with zeros (never uninitialised memory)."""
    return _leaf("empty", np.zeros(shape_of("empty", shape), dtype=dtype), requires_grad)


def full(shape: Any, fill_value: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of ``shape`` filled with ``fill_value`` (its dtype, unless ``dtype`` is given), as ``np.full``."""
    return _leaf("full", np.full(shape_of("full", (shape,)), fill_value, dtype=dtype), requires_grad)


def arange(*args: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """``arange([start,] stop[, step])``: evenly spaced values in [start, stop), as ``np.arange``."""
    if not 1 <= len(args) <= 3:
        raise TypeError(f"arange: takes 1 to 3 positional arguments (start, stop, step), got {len(args)}")
    return _leaf("arange", np.arange(*args, dtype=dtype), requires_grad)


def linspace(
    start: float, stop: float, num: int = 50, endpoint: bool = True, dtype: Any = None, requires_grad: bool = False
) -> Tensor:
    """``num`` evenly spaced values from start to stop (included unless ``endpoint=False``), as ``np.linspace``."""
    return _leaf("linspace", np.linspace(start, stop, num, endpoint=endpoint, dtype=dtype), requires_grad)


def eye(N: int, M: int | None = None, k: int = 0, dtype: Any = None, requires_grad: bool = False) -> Tensor:  # noqa: N803
    """The N×M matrix with ones on diagonal ``k`` and zeros elsewhere, as ``np.eye``."""
    return _leaf("eye", np.eye(N, M, k, dtype=dtype or np.float64), requires_grad)


def _integers(name: str, values: Any) -> np.ndarray:
    # (not np.asarray: of an array a compiled step watches, it is a plain one, and what is
    # computed from it a constant of the program, the recording's labels in every replay)
    array = _tracing.as_array(values.data if isinstance(values, Tensor) else values)
    if array.dtype.kind not in "iub" and not (array.size == 0 and array.dtype.kind == "f"):
        raise TypeError(f"{name}: expected integer indices, got dtype {array.dtype}")
    return array.astype(np.int64)


def one_hot(labels: Any, num_classes: int = -1) -> Tensor:
    """Integer labels of any shape → int64 indicators with a new last axis of ``num_classes``
    (``-1``: one more than the largest label), as PyTorch's ``F.one_hot``."""
    labels = _integers("one_hot", labels)
    if num_classes == -1:
        # The width is read from the values. A replay could only check it and record again
        # when it changes, and two recordings of different widths then disagree on a constant
        # (np.arange below) as if a value had been frozen: refused here instead, saying why.
        _tracing.refuse(
            "one_hot without num_classes (its width is the largest label + 1, read from the labels' values)",
            "pass num_classes",
        )
        num_classes = int(labels.max()) + 1 if labels.size else 0
    # one True/False a replay checks again, rather than the smallest and largest labels read
    # as numbers (a replay would then run only while both stayed the same)
    if ((labels < 0) | (labels >= num_classes)).any():
        if labels.min() < 0:
            raise ValueError(f"one_hot: labels must be non-negative, got {labels.min()}")
        raise ValueError(f"one_hot: label {labels.max()} is out of range for num_classes={num_classes}")
    return Tensor((labels[..., None] == np.arange(num_classes)).astype(np.int64))


def unravel_index(indices: Any, shape: Any) -> tuple[np.ndarray, ...]:
    """Flat indices → a tuple of index arrays into ``shape``, as ``np.unravel_index``."""
    return np.unravel_index(_integers("unravel_index", indices), shape_of("unravel_index", (shape,)))
