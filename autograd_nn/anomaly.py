"""Anomaly mode: which op's derivative produced a nan or inf, and which line of yours made it.

With ``detect_anomaly`` on, the recorder calls ``forward_trace`` for every node: the
first frame outside autograd_nn (file, line number, line text) and a checksum of each
saved array. During backward, ``AnomalyObserver`` checks what every derivative returns
and raises ``AnomalyError`` at the first nan or inf, naming the op and that line; it
also verifies the checksums, which catches a write into a saved ``.data`` array that
the version counter cannot see (raw numpy writes). With the mode off none of this runs.
"""

from __future__ import annotations

import linecache
import sys
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .engine import Observer
from .graph import Node

_PACKAGE = str(Path(__file__).resolve().parent)


class AnomalyError(RuntimeError):
    """A derivative returned nan or inf, or a saved array changed behind the version counter."""


@dataclass(frozen=True)
class ForwardTrace:
    """Where an op was recorded: the first caller outside autograd_nn, and its saved arrays' checksums."""

    filename: str
    lineno: int
    function: str
    line: str
    checksums: tuple[int | None, ...]

    def __str__(self) -> str:
        return f'File "{self.filename}", line {self.lineno}, in {self.function}\n    {self.line}'


def forward_trace(node: Node) -> ForwardTrace:
    """The user's line that is recording ``node`` now, and checksums of what it saved."""
    frame = sys._getframe(1)
    while frame.f_back is not None and frame.f_code.co_filename.startswith(_PACKAGE):
        frame = frame.f_back
    code = frame.f_code
    line = linecache.getline(code.co_filename, frame.f_lineno).strip()
    saved = node.ctx.saved_tensors if node.ctx is not None else ()
    return ForwardTrace(code.co_filename, frame.f_lineno, code.co_name, line, tuple(_checksum(v) for v in saved))


def _checksum(value: Any) -> int | None:
    if not isinstance(value, (np.ndarray, np.generic)):
        return None
    return zlib.crc32(np.ascontiguousarray(value).view(np.uint8))


def _where(node: Node) -> str:
    trace = node.trace
    if trace is None:
        return (
            f"the {node.name} was recorded before anomaly detection was on; turn on detect_anomaly "
            "before the forward pass to see the line that recorded it"
        )
    return f"the {node.name} was recorded at\n  {trace}"


class AnomalyObserver(Observer):
    """Checks, during the sweep, each node's saved arrays and each derivative's results."""

    def node(self, node: Node, grad: Any) -> None:
        trace = node.trace
        if trace is None or node.ctx is None:
            return
        for k, (value, expected) in enumerate(zip(node.ctx.saved_tensors, trace.checksums)):
            if expected is not None and _checksum(value) != expected:
                raise AnomalyError(
                    f"backward: saved value {k} of {node.name} (shape {np.shape(value)}) changed after the "
                    f"forward pass without an in-place operation (a write into .data?); {_where(node)}"
                )

    def derivative(self, node: Node, input_grads: tuple[Any, ...]) -> None:
        for i, g in enumerate(input_grads):
            if g is None:
                continue
            values = np.asarray(g.data if getattr(type(g), "__autograd_tensor__", False) else g)
            if values.dtype.kind in "fc" and not np.isfinite(values).all():
                kind = "nan" if np.isnan(values).any() else "inf"
                raise AnomalyError(
                    f"the derivative of {node.name} returned {kind} for input {i} (shape {values.shape}); "
                    f"{_where(node)}"
                )
