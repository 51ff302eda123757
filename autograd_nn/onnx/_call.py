"""What a converter sees of one recorded op (``OpCall``), and the export session that
resolves every operand to an ONNX value: an earlier op's output, a graph input, a
parameter (an initialiser named by its ``state_dict`` key) or a constant.

Every constant a converter reads (an operand, a parameter, an index, an output, a tensor
made in forward) is checked against the other recordings (``_trace.pair``). Against each
value probe (``_probes``: the inputs with other values) it must be the same; against the
recording with the dynamic axes grown it must be the same too, or, of other sizes but
filled with one value (zeros of shape (batch, n), an RNN's first state), it becomes that
value expanded to a shape read from the graph's inputs. Otherwise it was computed from the
input outside the graph, and the export stops with an error that says so instead of
baking in the traced values.
"""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np

from ..graph import Node
from ..tensor import Tensor
from ._graph import OnnxGraph
from ._probes import equal
from ._trace import ExportError, Pairing

Dim = tuple[int, int]  # a dim's size in the first and in the second recording


def same(a: Any, b: Any) -> bool:
    """Equal values (arrays by shape, dtype and elements; tuples element by element, one level)."""
    if isinstance(a, tuple) and isinstance(b, tuple):
        return len(a) == len(b) and all(_same_item(x, y) for x, y in zip(a, b))
    return _same_item(a, b)


def _same_item(a: Any, b: Any) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return np.shape(a) == np.shape(b) and np.asarray(a).dtype == np.asarray(b).dtype and np.array_equal(a, b)
    return type(a) is type(b) and a == b


#: How a constant computed from the input's values outside the graph comes about, and the way out.
_OUTSIDE = (
    "the model computed it from the input outside the recorded graph (a comparison such as x > 0, .numpy(), "
    ".item(), .data, or a numpy function; autograd_nn's piecewise activations and losses such as prelu, "
    "hardtanh and huber_loss compute their Where's condition so, topk its indices), so ONNX would repeat the "
    "traced values for every input. Compute it with tensor operations, or pass it to the model as an input"
)


class Session:
    """One export: the graph, the recordings lined up (``pairing``: the dynamic axes grown;
    ``probes``: the value probes), and the ONNX value of every edge."""

    def __init__(
        self,
        graph: OnnxGraph,
        pairing: Pairing,
        named: dict[int, tuple[str, np.ndarray]],
        probes: list[Pairing] | None = None,
    ) -> None:
        self.graph = graph
        self.pairing = pairing
        self.probes = probes or []
        self.values: dict[int, str] = {}  # id(node or leaf) -> value name
        self.named = named  # id(parameter or its array) -> (state_dict name, array)
        self.known: dict[int, str] = {}  # id(array) -> value name: graph inputs that are not floats, ...
        self.inputs: list[np.ndarray] = []  # the traced inputs' arrays (a constant must not be one of them)
        self.sources: dict[Dim, list[tuple[str, int, str]]] = {}  # a dynamic size -> (input, axis, dim name)s
        self.symbols: dict[Dim, str] = {}  # a dynamic size -> the name of that input axis
        self._shapes: dict[tuple[str, int], str] = {}
        self.keep: list[Any] = []  # recordings of decompositions: their arrays stay alive (ids stay unique)

    # ----------------------------------------------------------------- edges
    def edge_value(self, edge: Any, dtype: Any = None) -> str:
        """The value of a node or leaf edge (a parameter becomes its named initialiser)."""
        key = id(edge)
        if key not in self.values:
            if type(edge) is Node:
                raise ExportError(f"export: the {edge.name} is used before it is converted")
            name, array = self.named.get(key, (None, edge.data))
            if name is None:  # a tensor made in forward: from constants, or from the input's values?
                self.check_probes(edge, [p.other(edge) for p in self.probes], "a tensor made in the forward pass")
            self.values[key] = self.graph.initializer(array, name)
        return self.values[key]

    def check_probes(self, value: Any, probed: list[Any], where: str) -> None:
        """Raise unless ``value`` is the same constant in every value probe's recording (``probed``)."""
        for probe, other in zip(self.probes, probed):
            if not equal(value, other, probe.leaves):
                raise ExportError(
                    f"export: {where} is a constant that depends on the input's values (recorded again with the "
                    f"example inputs {probe.name}, same shapes, the model made it different): {_OUTSIDE}"
                )

    def constant(self, raw: Any, other: Any, where: str, dtype: Any = None, probed: list[Any] | None = None) -> str:
        """The value of a constant operand ``raw`` (``other``: the same operand in the second recording,
        ``probed``: in each value probe's; None: checked by the caller already)."""
        if isinstance(raw, np.ndarray):
            if id(raw) in self.known:
                return self.known[id(raw)]
            if id(raw) in self.named:
                name, array = self.named[id(raw)]
                self.known[id(raw)] = self.graph.initializer(array, name)
                return self.known[id(raw)]
            if any(np.may_share_memory(raw, x) for x in self.inputs):
                raise ExportError(
                    f"export: {where} is the model's input itself, used outside the recorded graph "
                    "(through .data, .numpy() or .detach()); use the tensor, so that the op is recorded"
                )
        if probed is not None:
            self.check_probes(raw, probed, where)
        dtype = dtype if dtype is not None else np.asarray(raw).dtype
        if not self.pairing.paired or same(raw, other):
            return self.graph.constant(raw, dtype)
        a, b = np.asarray(raw), np.asarray(other)
        if a.shape != b.shape and a.ndim == b.ndim and a.size and b.size and _uniform(a) and _uniform(b):
            if a.flat[0] == b.flat[0]:  # zeros((batch, n)): one value, a shape that follows the input
                value = self.graph.constant(a.flat[0], dtype)
                return self.graph.op("Expand", value, self.shape_value(list(zip(a.shape, b.shape))), dtype=dtype)
        what = "sizes" if a.shape != b.shape else "values"
        raise ExportError(f"export: {where} is a constant that depends on the input's {what}: {_OUTSIDE}")

    # ---------------------------------------------------------------- shapes
    def shape_value(self, dims: list[Dim | int]) -> str:
        """A 1-D int64 value holding ``dims``; a dynamic dim is read from a graph input that has it."""
        pieces: list[str] = []
        static: list[int] = []
        for dim in dims:
            if isinstance(dim, int) or dim[0] == dim[1]:
                static.append(dim if isinstance(dim, int) else dim[0])
                continue
            if static:
                pieces.append(self.graph.ints(static))
                static = []
            pieces.append(self._size(dim))
        if static or not pieces:
            pieces.append(self.graph.ints(static))
        if len(pieces) == 1:
            return pieces[0]
        return self.graph.op("Concat", *pieces, axis=0, dtype=np.int64)

    def _size(self, dim: Dim) -> str:
        """A 1-element int64 value: the size of the graph input axis that has size ``dim``."""
        if dim not in self.sources:
            raise ExportError(
                f"export: a size of {dim[0]} in the traced graph changes with the dynamic axes, but no graph "
                "input has an axis of that size; give that size its own input, or export without dynamic_axes"
            )
        names = sorted({symbol for _, _, symbol in self.sources[dim]})
        if len(names) > 1:
            raise ExportError(
                f"export: the dynamic axes {', '.join(names)} all have size {dim[0]} in the example inputs, so "
                "which one a size of the graph follows is ambiguous; give the example inputs different sizes "
                "along them (or the same name in dynamic_axes, if they are one size)"
            )
        source = self.sources[dim][0][:2]
        if source not in self._shapes:
            name, axis = source
            shape = self.graph.op("Shape", name, dtype=np.int64)
            self._shapes[source] = self.graph.op("Gather", shape, self.graph.ints([axis]), axis=0, dtype=np.int64)
        return self._shapes[source]

    def output_value(self, value: Any) -> str:
        """The value of an output tensor: its node's, a leaf's, or a constant."""
        other = self.pairing.other(value)
        probed = [p.other(value) for p in self.probes]
        if isinstance(value, Tensor):
            if value.grad_fn is not None:
                return self.values[id(value.grad_fn)]
            if id(value) in self.values or value.requires_grad:
                return self.edge_value(value)
            value, other = value.data, (other.data if isinstance(other, Tensor) else other)
            probed = [p.data if isinstance(p, Tensor) else p for p in probed]
        return self.constant(value, other, "an output", probed=probed)


def _uniform(a: np.ndarray) -> bool:
    return bool(np.all(a == a.flat[0]))


_DEFAULTS: dict[type, dict[str, Any]] = {}


def _defaults(fn: type) -> dict[str, Any]:
    """The keyword defaults of ``fn.forward`` (an op called without them records no params)."""
    if fn not in _DEFAULTS:
        try:
            parameters = inspect.signature(fn.forward).parameters.values()
        except (TypeError, ValueError):
            parameters = ()
        _DEFAULTS[fn] = {p.name: p.default for p in parameters if p.default is not p.empty}
    return _DEFAULTS[fn]


class OpCall:
    """One recorded op, as its converter sees it.

    ``shape``, ``dtype`` and ``dims`` describe its output (``dims``: each size in the
    first and the second recording, which differ along dynamic axes); ``input(i, dtype)``
    is the name of input ``i``'s ONNX value (cast to ``dtype`` if given); ``param(name)``
    a keyword parameter (forward's default if it was not passed); ``ctx`` the op's own
    context, as its forward left it.
    """

    def __init__(self, session: Any, node: Node) -> None:  # session: the export's Session (internal)
        self.session: Session = session
        self.node = node
        self.partner = session.pairing.other(node)
        self.name = node.name
        self.shape: tuple[int, ...] = node.shape
        self.dtype: np.dtype = node.dtype
        self.ctx = node.ctx
        self.dims: list[Dim] = list(zip(node.shape, self.partner.shape))
        self.probes: list[Node] = [probe.other(node) for probe in session.probes]  # the same op in each probe

    @property
    def n_inputs(self) -> int:
        """How many array inputs the op was called with."""
        return len(self.node.parents)

    def input(self, i: int, dtype: Any = None) -> str:
        """The ONNX value of input ``i`` (as ``dtype`` if given: ONNX never promotes types)."""
        parent = self.node.parents[i]
        if parent is not None:
            name = self.session.edge_value(parent)
        else:
            probed = [n.inputs[i] for n in self.probes]
            name = self.session.constant(
                self.raw(i), self.partner.inputs[i], f"input {i} of the {self.name}", dtype, probed
            )
        return name if dtype is None else self.session.graph.cast(name, dtype)

    def inputs(self, dtype: Any = None) -> list[str]:
        """Every input's value, each as ``dtype`` if given."""
        return [self.input(i, dtype) for i in range(self.n_inputs)]

    def raw(self, i: int) -> Any:
        """The array (or number) forward received as input ``i``."""
        return self.node.inputs[i]

    def input_shape(self, i: int) -> tuple[int, ...]:
        """The shape of input ``i`` in the traced call."""
        return tuple(np.shape(self.raw(i)))

    def input_dims(self, i: int) -> list[Dim]:
        """The sizes of input ``i`` in both recordings."""
        return list(zip(np.shape(self.raw(i)), np.shape(self.partner.inputs[i])))

    def param(self, name: str, varying: bool = False) -> Any:
        """Keyword parameter ``name``. It must be the same in every value probe, and in the
        recording with the dynamic axes grown unless ``varying`` (a shape or an index that
        follows the dynamic axes, which the converter handles itself)."""
        default = _defaults(self.node.fn).get(name)
        value = self.node.params.get(name, default)
        probed = [n.params.get(name, default) for n in self.probes]
        self.session.check_probes(value, probed, f"the {name} of the {self.name}")
        if not varying:
            other = self.partner.params.get(name, _defaults(self.node.fn).get(name))
            if not same(value, other):
                raise self.fail(
                    f"its parameter {name} depends on the input (it differs between inputs of other sizes or "
                    "values), so ONNX would repeat the traced value; compute it with tensor operations"
                )
        return value

    def param_value(self, name: str, dtype: Any = None) -> str:
        """An array parameter (a mask, a target, an index) as an ONNX value."""
        other = self.partner.params.get(name)
        probed = [n.params.get(name) for n in self.probes]
        return self.session.constant(self.node.params[name], other, f"the {name} of the {self.name}", dtype, probed)

    def fail(self, message: str) -> ExportError:
        """An ``ExportError`` naming this op."""
        return ExportError(f"export: the {self.name} (an op of the model): {message}")
