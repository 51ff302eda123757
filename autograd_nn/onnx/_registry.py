"""The converter table: op class → the function that writes that op as ONNX nodes.

One entry per op, keyed by the op's ``Function`` class (never by its name), so a new op
opts in with one declaration::

    @register_converter(ops.Sigmoid)
    def _(g, op):
        return g.op("Sigmoid", op.input(0, op.dtype), dtype=op.dtype)

An op with no entry is exported through its declared ``decomposition=`` (the fused ops:
``Linear`` could, ``MseLoss`` does), and composites need nothing: they are recorded as the
primitives they call. An op with neither is an error that names it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Converter = Callable[[Any, Any], str]

#: op class → converter ``convert(graph, op) -> name of the output value``
CONVERTERS: dict[type, Converter] = {}


def register_converter(*op_classes: type, replace: bool = False) -> Callable[[Converter], Converter]:
    """Decorator: ``convert(g, op)`` writes each of ``op_classes`` into the ONNX graph.

    ``g`` is the graph being built (``g.op(op_type, *inputs, dtype=..., **attributes)``
    adds a node and returns its output's name; ``g.constant(array)`` and ``g.ints(list)``
    add constants); ``op`` is the recorded op (``op.input(i, dtype)``, ``op.param(name)``,
    ``op.shape``, ``op.dtype``, ``op.dims``: see ``autograd_nn.onnx.OpCall``). The
    converter returns the name of the value that is the op's output. A second converter
    for the same class is an error unless ``replace=True``.
    """
    for cls in op_classes:
        if not isinstance(cls, type) or not hasattr(cls, "forward"):
            raise TypeError(f"register_converter: expected Function classes (ops), got {cls!r}")

    def enrol(convert: Converter) -> Converter:
        for cls in op_classes:
            if cls in CONVERTERS and not replace:
                raise ValueError(
                    f"register_converter: {cls.__name__} already has an ONNX converter "
                    f"({CONVERTERS[cls].__qualname__}); pass replace=True to override it"
                )
            CONVERTERS[cls] = convert
        return convert

    return enrol
