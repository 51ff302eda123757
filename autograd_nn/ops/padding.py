"""``pad``: numpy's signature and modes ('constant', 'edge', 'reflect', 'symmetric',
'wrap'), PyTorch's mode names as aliases ('replicate' is 'edge', 'circular' is 'wrap').

Constant padding writes x into a larger array of zeros (``IndexAdd``, whose derivative is
the slice of δ where x was) and adds the constant frame. Every other mode copies
elements of x: which ones is numpy's own ``pad`` of each axis's positions, and the
padded tensor is one gather of x at those positions (``GetItem``), so δ reaching a
copied element is added back to the element it came from.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._record import array_of
from ..registry import register_composite
from .shape import GetItem, IndexAdd

_MODES = {"constant": "constant", "edge": "edge", "replicate": "edge", "reflect": "reflect", "symmetric": "symmetric",
          "wrap": "wrap", "circular": "wrap"}  # fmt: skip


def _widths(pad_width: Any, ndim: int) -> np.ndarray:
    widths = np.asanyarray(array_of(pad_width))
    if widths.dtype.kind not in "iu" or (widths.size and widths.min() < 0):
        raise ValueError(f"pad: pad_width must be non-negative ints, got {pad_width!r}")
    try:
        return np.broadcast_to(widths, (ndim, 2)).astype(int)
    except ValueError:
        hint = ""
        if widths.ndim == 1 and widths.size % 2 == 0 and widths.size > 2:
            hint = (" (PyTorch's F.pad lists (before, after) from the last axis backwards; numpy's pad_width "
                    "has one (before, after) per axis from the first, e.g. ((0, 0), (1, 2)))")  # fmt: skip
        raise ValueError(f"pad: pad_width {pad_width!r} does not fit a {ndim}-D tensor{hint}") from None


def _pad_shapes(draw: Any) -> tuple[list[tuple[int, ...]], dict[str, Any]]:
    from hypothesis import strategies as st  # a test-time dependency, imported only here

    shape = tuple(draw(st.lists(st.integers(1, 3), max_size=3)))
    widths = tuple((draw(st.integers(0, 2)), draw(st.integers(0, 2))) for _ in shape)
    mode = draw(st.sampled_from(sorted(_MODES)))
    pad_width = widths if shape and draw(st.booleans()) else draw(st.integers(0, 2))
    params = {"pad_width": pad_width, "mode": mode}
    if mode == "constant":
        params["constant_values"] = draw(st.sampled_from([0.0, 1.5]))
    return [shape], params


def _pad_reference(x: np.ndarray, pad_width: Any, mode: str, constant_values: float = 0.0) -> np.ndarray:
    if _MODES[mode] == "constant":
        return np.pad(x, pad_width, "constant", constant_values=constant_values)
    return np.pad(x, pad_width, _MODES[mode])


def _pad_args(x: Any, pad_width: Any, mode: str = "constant", constant_values: Any = 0.0, *, value: Any = None) -> Any:
    """numpy's pad(x, pad_width, mode, constant_values); PyTorch's ``value=`` for the constant."""
    return (x,), {"pad_width": pad_width, "mode": mode, "constant_values": constant_values if value is None else value}


@register_composite(reference=_pad_reference, shapes=_pad_shapes, arity=1, functions="pad", parse=_pad_args)
def pad(x: Any, pad_width: Any, mode: str = "constant", constant_values: Any = 0.0) -> Any:
    """x padded by ``pad_width`` ((before, after) per axis, one pair for all, or an int) as
    ``np.pad``: with ``constant_values``, or by copying x's elements ('edge'/'replicate',
    'reflect', 'symmetric', 'wrap'/'circular')."""
    if mode not in _MODES:
        raise ValueError(f"pad: mode {mode!r} is not supported; use one of {', '.join(sorted(_MODES))}")
    widths = _widths(pad_width, x.ndim)
    shape = tuple(int(n + b + a) for n, (b, a) in zip(x.shape, widths))
    if _MODES[mode] == "constant":
        if np.ndim(constant_values) != 0:
            raise ValueError(f"pad: constant_values must be one number, got {constant_values!r}")
        interior = tuple(slice(int(b), int(b) + n) for n, (b, _) in zip(x.shape, widths))
        padded = IndexAdd.apply(x, shape=shape, index=interior)
        if constant_values != 0:
            frame = np.full(shape, constant_values, dtype=x.dtype)
            frame[interior] = 0
            padded = padded + frame
        return padded
    if 0 in x.shape and widths.any():
        raise ValueError(f"pad: mode {mode!r} cannot pad an empty axis (shape {x.shape})")
    sources = [np.pad(np.arange(n), (int(b), int(a)), _MODES[mode]) for n, (b, a) in zip(x.shape, widths)]
    return GetItem.apply(x, index=np.ix_(*sources)) if sources else x
