"""The random draws of ops that take ``rng=`` (a ``numpy.random.Generator`` or a seed).

A draw goes through ``_tracing.draw``, so a compiled step's replays draw afresh exactly as
eager calls do: from the Generator's running stream, or, for a seed, from a new
``default_rng(seed)`` each call (the same numbers every call; ``None``: fresh entropy).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import _tracing


def uniform(rng: np.random.Generator | int | None, shape: tuple[int, ...]) -> Any:
    """U[0, 1) samples of ``shape`` from ``rng`` (see the module docstring)."""
    if isinstance(rng, np.random.Generator):
        return _tracing.draw(rng.random, shape)
    return _tracing.draw(_seeded_uniform, rng, shape)


def _seeded_uniform(seed: int | None, shape: tuple[int, ...]) -> np.ndarray:
    return np.random.default_rng(seed).random(shape)
