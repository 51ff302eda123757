"""Text for labels: shapes, value summaries, the post's notation, gradient colours.

Pure functions of arrays and numbers; nothing here looks at the graph.
"""

from __future__ import annotations

import html
import math
from typing import Any

import numpy as np

_SUPERSCRIPTS = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")

TINY = 6
"""Tensors with at most this many elements are shown in full."""


def sup(n: int | str) -> str:
    """``sup(12) == '¹²'``: the layer index as the post writes it (z¹², W¹²)."""
    return str(n).translate(_SUPERSCRIPTS)


_DTYPE_NAMES: dict[Any, str] = {}


def dtype_text(dtype: Any) -> str:
    """``str(dtype)``, cached: numpy's dtype naming is slow enough to matter at 10⁵ nodes."""
    name = _DTYPE_NAMES.get(dtype)
    if name is None:
        name = _DTYPE_NAMES[dtype] = str(dtype)
    return name


def shape_text(shape: tuple[int, ...]) -> str:
    """``(128, 200)`` → ``128×200``; a scalar is ``scalar``."""
    return "×".join(str(n) for n in shape) if shape else "scalar"


def number(x: float) -> str:
    """A short, fixed-width-ish number: 4 significant digits."""
    if not math.isfinite(x):
        return str(x)
    return f"{x:.4g}"


def values_text(a: np.ndarray) -> str:
    """The full values of a tiny array, else ``RMS=… min=… max=…``."""
    a = np.asarray(a)
    if a.size <= TINY:
        if a.ndim == 0:
            return number(float(a))
        if a.size == 1:
            return f"[{number(float(a.reshape(())))}]"
        flat = ", ".join(number(float(v)) for v in a.reshape(-1))
        return f"[{flat}]"
    return stats_text(a)


def stats_text(a: np.ndarray) -> str:
    """``RMS=0.2 min=-0.1 max=0.4``: the root mean square, the one magnitude every label,
    edge, legend and colour uses (comparable across tensors of any size)."""
    a = np.asarray(a, dtype=np.float64)
    if a.size == 0:
        return "empty"
    return f"RMS={number(rms(a))} min={number(float(a.min()))} max={number(float(a.max()))}"


def norm(a: Any) -> float:
    """The Frobenius (all-element Euclidean) norm, in float64."""
    a = np.asarray(a, dtype=np.float64)
    if a.size == 1:
        return abs(float(a.reshape(())))  # the common scalar case, without reduction overhead
    flat = a.reshape(-1)
    return math.sqrt(float(np.dot(flat, flat)))


def rms(a: Any) -> float:
    """Root mean square: the typical magnitude of one element, comparable across sizes."""
    a = np.asarray(a, dtype=np.float64)
    return norm(a) / math.sqrt(a.size) if a.size else 0.0


def escape(text: str) -> str:
    """Text made safe inside a Graphviz HTML-like label."""
    return html.escape(text, quote=False)


# Light colours, so black text stays readable: small |δ| → blue, middle → yellow, large → red.
_STOPS = ((0.0, (198, 219, 239)), (0.5, (255, 255, 204)), (1.0, (251, 128, 114)))
ZERO_COLOUR = "#d9d9d9"  # δ is exactly zero (a dead ReLU, an unused output)
NONFINITE_COLOUR = "#ff66ff"  # NaN or ±inf: the loudest colour on the page
UNKNOWN_COLOUR = "#ffffff"


def ramp(t: float) -> str:
    """The colour at position ``t`` ∈ [0, 1] of the magnitude scale, as ``#rrggbb``."""
    t = min(max(t, 0.0), 1.0)
    for (t0, c0), (t1, c1) in zip(_STOPS, _STOPS[1:]):
        if t <= t1:
            f = (t - t0) / (t1 - t0)
            return "#" + "".join(f"{round(a + (b - a) * f):02x}" for a, b in zip(c0, c1))
    return "#" + "".join(f"{c:02x}" for c in _STOPS[-1][1])  # pragma: no cover


class MagnitudeScale:
    """Colours gradients by log₁₀ of their RMS, spread over the range seen in this graph.

    A scale fixed in advance would paint every healthy graph one colour; relative to the
    graph, the vanishing and the exploding ends stand out, and the legend prints the
    actual magnitudes at both ends.
    """

    def __init__(self, magnitudes: list[float]):
        logs = [math.log10(m) for m in magnitudes if m > 0 and math.isfinite(m)]
        self.low = min(logs) if logs else 0.0
        self.high = max(logs) if logs else 0.0

    def colour(self, grad: np.ndarray) -> str:
        return self.colour_of(rms(grad))

    def colour_of(self, m: float) -> str:
        """The colour of an RMS magnitude ``m``."""
        if not math.isfinite(m):
            return NONFINITE_COLOUR
        if m == 0:
            return ZERO_COLOUR
        if self.high - self.low < 1e-12:
            return ramp(0.5)
        return ramp((math.log10(m) - self.low) / (self.high - self.low))

    def ticks(self, count: int = 5) -> list[tuple[float, str]]:
        """``count`` (RMS magnitude, colour) pairs from the low end to the high end."""
        if self.high - self.low < 1e-12:
            return [(10**self.low, ramp(0.5))]
        return [
            (10 ** (self.low + (self.high - self.low) * i / (count - 1)), ramp(i / (count - 1))) for i in range(count)
        ]


def _index_part(item: Any) -> str | None:
    if item is None:
        return "None"
    if item is Ellipsis:
        return "..."
    if isinstance(item, slice):
        start, stop, step = ("" if v is None else str(v) for v in (item.start, item.stop, item.step))
        return f"{start}:{stop}" + (f":{step}" if step else "")
    if isinstance(item, (int, np.integer)) and not isinstance(item, bool):
        return str(int(item))
    return None  # an index array, a mask: too long to write out


def parameter_text(value: Any) -> str | None:
    """A keyword parameter as a formula writes it inside parentheses or brackets
    (``(6, 4)`` → ``6, 4``; ``(slice(1, 3), slice(None, None, 2))`` → ``1:3, ::2``);
    None when it would not be short or exact (arrays, objects)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, np.integer, float, np.floating)):
        return number(float(value)) if isinstance(value, (float, np.floating)) else str(int(value))
    items = value if isinstance(value, tuple) else (value,)
    parts = [_index_part(v) for v in items]
    if not items or any(p is None for p in parts):
        return None
    text = ", ".join(parts)  # type: ignore[arg-type]
    return text if len(text) <= 40 else None
