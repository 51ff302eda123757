"""The ONNX graph under construction: nodes, initialisers, and the dtype of every value.

Converters add nodes with ``graph.op("Gemm", x, w, b, transB=1)`` and constants with
``graph.constant(array)``; nothing here imports ``onnx`` until ``to_model`` builds the
protobuf, so the converter tables load without it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

_SMALL = 4096  # constants up to this many elements are shared by value


@dataclass(frozen=True)
class Signature:
    """A graph input or output: its name, dtype and dims (an int, or a name for a dynamic dim)."""

    name: str
    dtype: np.dtype
    dims: tuple[int | str, ...]


class OnnxGraph:
    """Nodes and initialisers in the order they are added; every value name is unique."""

    def __init__(self, opset: int) -> None:
        self.opset = opset
        self.nodes: list[tuple[str, list[str], list[str], dict[str, Any]]] = []
        self.initializers: dict[str, np.ndarray] = {}
        self.dtypes: dict[str, np.dtype] = {}
        self._taken: set[str] = set()
        self._counts: dict[str, int] = {}
        self._shared: dict[Any, str] = {}

    # ------------------------------------------------------------------ names
    def fresh(self, hint: str) -> str:
        """A value name not used yet, made from ``hint`` (``Gemm_0``, ``Gemm_1``, ...)."""
        while True:
            count = self._counts.get(hint, 0)
            self._counts[hint] = count + 1
            name = f"{hint}_{count}"
            if name not in self._taken:
                self._taken.add(name)
                return name

    def claim(self, name: str) -> str:
        """Reserve ``name`` exactly (graph inputs, outputs and parameters keep their names)."""
        if name in self._taken:
            raise ValueError(f"export: the name {name!r} is used twice in the graph (inputs, outputs and parameters)")
        self._taken.add(name)
        return name

    # ------------------------------------------------------------------ nodes
    def op(self, op_type: str, *inputs: str, outputs: int = 1, dtype: Any = None, **attributes: Any) -> Any:
        """Add one ``op_type`` node; returns its output's name (a list for ``outputs`` > 1).

        ``""`` stands for an omitted optional input. ``dtype`` records the output's dtype
        (read by ``cast``); attributes are ints, floats, strings, lists of them, or arrays.
        """
        names = [self.fresh(op_type) for _ in range(outputs)]
        self.nodes.append((op_type, list(inputs), names, attributes))
        if dtype is not None:
            for name in names:
                self.dtypes[name] = np.dtype(dtype)
        return names[0] if outputs == 1 else names

    def rename_output(self, old: str, new: str) -> None:
        """Make the node that produces ``old`` produce ``new`` instead (graph outputs keep their names)."""
        for _, inputs, outputs, _ in self.nodes:
            outputs[:] = [new if o == old else o for o in outputs]
            inputs[:] = [new if i == old else i for i in inputs]
        self.dtypes[new] = self.dtypes.get(old)

    def produced(self, name: str) -> bool:
        """True if a node (not an input or initialiser) produces ``name``."""
        return any(name in outputs for _, _, outputs, _ in self.nodes)

    def cast(self, name: str, dtype: Any) -> str:
        """``name`` as ``dtype``: itself if it has that dtype already, else a Cast of it."""
        dtype = np.dtype(dtype)
        if self.dtypes.get(name) == dtype:
            return name
        return self.op("Cast", name, to=dtype, dtype=dtype)

    # -------------------------------------------------------------- constants
    def initializer(self, array: np.ndarray, name: str | None = None) -> str:
        """Add ``array`` as an initialiser (named ``name``, e.g. a parameter's ``0.weight``)."""
        array = np.asarray(array, order="C")  # (not ascontiguousarray: it makes 0-d arrays 1-d)
        name = self.claim(name) if name is not None else self.fresh("const")
        self.initializers[name] = array
        self.dtypes[name] = array.dtype
        return name

    def constant(self, value: Any, dtype: Any = None) -> str:
        """A constant initialiser holding ``value`` (as ``dtype``); small ones are shared."""
        array = np.asarray(value, dtype=dtype)
        if array.size > _SMALL:
            return self.initializer(array)
        key = (array.dtype.str, array.shape, array.tobytes())
        if key not in self._shared:
            self._shared[key] = self.initializer(array)
        return self._shared[key]

    def ints(self, values: Sequence[int]) -> str:
        """A 1-D int64 constant: the shapes, axes, starts and ends ONNX takes as inputs."""
        return self.constant(np.asarray(list(values), dtype=np.int64).reshape(-1))

    # ------------------------------------------------------------------ model
    def to_model(self, inputs: Sequence[Signature], outputs: Sequence[Signature], producer: str) -> Any:
        """The ``onnx.ModelProto`` of this graph (needs the ``onnx`` package)."""
        import onnx
        from onnx import helper, numpy_helper

        def info(s: Signature) -> Any:
            return helper.make_tensor_value_info(s.name, helper.np_dtype_to_tensor_dtype(s.dtype), list(s.dims))

        nodes = []
        for op_type, ins, outs, attributes in self.nodes:
            plain = {k: _attribute(v) for k, v in attributes.items()}
            nodes.append(helper.make_node(op_type, ins, outs, **plain))
        graph = helper.make_graph(
            nodes,
            "autograd_nn",
            [info(s) for s in inputs],
            [info(s) for s in outputs],
            initializer=[numpy_helper.from_array(a, name) for name, a in self.initializers.items()],
        )
        opsets = [helper.make_opsetid("", self.opset)]
        model = helper.make_model(graph, opset_imports=opsets, producer_name="autograd_nn", producer_version=producer)
        model.ir_version = helper.find_min_ir_version_for(opsets)  # the oldest IR that has this opset
        return onnx.shape_inference.infer_shapes(model, check_type=True, strict_mode=True)


def _attribute(value: Any) -> Any:
    """An attribute value as ``onnx.helper.make_node`` takes it (dtypes become TensorProto codes)."""
    from onnx import helper, numpy_helper

    if isinstance(value, np.dtype):
        return helper.np_dtype_to_tensor_dtype(value)
    if isinstance(value, np.ndarray):
        return numpy_helper.from_array(value)
    if isinstance(value, (np.integer, np.floating)):
        return value.item()
    return value
