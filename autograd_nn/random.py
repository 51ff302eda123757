"""Random tensors and the default generator: ``manual_seed``, ``rand``, ``randn``,
``randint``, ``normal``, ``uniform``, ``randperm``.

Every function draws from ``generator=`` (a ``numpy.random.Generator``) if given, else from
the default generator, which is also the one ``nn.init``, ``nn.Linear``'s initialisation and
``nn.Dropout`` use. It starts unseeded (like ``numpy.random.default_rng()``);
``manual_seed(seed)`` re-seeds it, so a program that calls it first draws the same
numbers every run. ``manual_seed`` re-seeds that generator in place (as ``torch.manual_seed``),
so a generator taken earlier (``default_generator()``, a compiled step's recorded draws)
follows the new seed. Shapes are numpy's (``rand(2, 3)``, ``normal(size=(2, 3))``) and
PyTorch's (``rand((2, 3))``, ``randint(0, 10, (3,))``); floats are float64 by default.

Every draw goes through ``_tracing.draw``, so that a compiled step (``autograd_nn.compile``)
that makes a random tensor draws afresh, from the same generator, on every replay.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import _tracing
from .creation import shape_of
from .tensor import Tensor

_default = np.random.default_rng()


def manual_seed(seed: int | None) -> np.random.Generator:
    """Re-seed the default generator in place (None: fresh entropy) and return it.

    Its state becomes that of ``numpy.random.default_rng(seed)``: the same numbers follow.
    """
    _default.bit_generator.state = np.random.default_rng(seed).bit_generator.state
    return _default


def default_generator() -> np.random.Generator:
    """The generator every random function of autograd_nn uses when given none."""
    return _default


def generator_of(name: str, generator: Any) -> np.random.Generator:
    """``generator``, or the default one; anything but a ``numpy.random.Generator`` is refused."""
    if generator is None:
        return _default
    if not isinstance(generator, np.random.Generator):
        raise TypeError(f"{name}: generator must be a numpy.random.Generator, got {type(generator).__name__}")
    return generator


def _floats(name: str, values: np.ndarray, dtype: Any, requires_grad: bool) -> Tensor:
    dtype = np.dtype(np.float64 if dtype is None else dtype)
    if dtype.kind != "f":
        raise TypeError(f"{name}: dtype must be a floating-point type, got {dtype}")
    return Tensor(values.astype(dtype, copy=False), requires_grad=requires_grad)


def _size(name: str, size: Any) -> tuple[int, ...] | None:
    return None if size is None else shape_of(name, (size,) if isinstance(size, (int, np.integer)) else (tuple(size),))


def rand(*shape: Any, dtype: Any = None, generator: Any = None, requires_grad: bool = False) -> Tensor:
    """Draws from U[0, 1) of the given shape: ``rand(2, 3)`` or ``rand((2, 3))``."""
    values = _tracing.draw(generator_of("rand", generator).random, shape_of("rand", shape))
    return _floats("rand", values, dtype, requires_grad)


def randn(*shape: Any, dtype: Any = None, generator: Any = None, requires_grad: bool = False) -> Tensor:
    """Draws from N(0, 1) of the given shape: ``randn(2, 3)`` or ``randn((2, 3))``."""
    values = _tracing.draw(generator_of("randn", generator).standard_normal, shape_of("randn", shape))
    return _floats("randn", values, dtype, requires_grad)


def normal(
    loc: float = 0.0, scale: float = 1.0, size: Any = None, *, dtype: Any = None, generator: Any = None,
    requires_grad: bool = False,
) -> Tensor:  # fmt: skip
    """Draws from N(loc, scale²), as ``np.random.normal(loc, scale, size)`` (PyTorch: mean, std, size)."""
    values = _tracing.draw(generator_of("normal", generator).normal, loc, scale, _size("normal", size))
    return _floats("normal", _tracing.as_array(values), dtype, requires_grad)


def uniform(
    low: float = 0.0, high: float = 1.0, size: Any = None, *, dtype: Any = None, generator: Any = None,
    requires_grad: bool = False,
) -> Tensor:  # fmt: skip
    """Draws from U[low, high), as ``np.random.uniform(low, high, size)``."""
    values = _tracing.draw(generator_of("uniform", generator).uniform, low, high, _size("uniform", size))
    return _floats("uniform", _tracing.as_array(values), dtype, requires_grad)


def randint(low: int, high: Any = None, size: Any = None, *, dtype: Any = np.int64, generator: Any = None) -> Tensor:
    """Integers in [low, high), as ``np.random.randint(low, high, size)``; ``randint(high)``
    draws from [0, high). PyTorch's ``randint(high, size)`` works too (a shape second)."""
    if isinstance(high, (tuple, list)) and size is None:  # PyTorch's randint(high, size)
        low, high, size = 0, low, high
    if high is None:
        low, high = 0, low
    if not high > low:
        raise ValueError(f"randint: need low < high, got low={low}, high={high}")
    values = _tracing.draw(generator_of("randint", generator).integers, low, high, _size("randint", size))
    return Tensor(_tracing.as_array(values, dtype))


def randperm(n: int, *, dtype: Any = np.int64, generator: Any = None) -> Tensor:
    """A random permutation of 0, …, n − 1 (PyTorch's ``randperm``; numpy's ``permutation``)."""
    return Tensor(_tracing.draw(generator_of("randperm", generator).permutation, int(n)).astype(dtype))
