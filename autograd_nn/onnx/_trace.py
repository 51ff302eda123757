"""Recording a forward pass for export: every op, with the values its forward received.

``record(fn, values)`` runs ``fn`` on fresh leaf tensors in keep-inputs mode (``grad_mode.KEEP_INPUTS``):
each recorded ``Node`` then keeps its inputs (``node.inputs``), constants included, so the
exporter knows every operand, not only those that require grad. The graph is read, never
changed: nothing here runs a backward or touches a node.

An export records twice, the second time with inputs of other sizes along the dynamic
axes (or with their rows rolled, when there are none), and then once per value probe
(``_probes``: the inputs with other values, same shapes): ``pair`` lines each recording up
with the first, node by node. What differs between them is what depends on the input — a
size that must stay symbolic in the ONNX graph, or a constant that the model computed from
the input's values outside the graph, which no export could reproduce.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import grad_mode
from ..graph import Node
from ..tensor import Tensor


class ExportError(RuntimeError):
    """The model cannot be exported as it is; the message says which op and why."""


@dataclass
class Recording:
    """One traced call: its input leaves, its outputs, and its nodes in topological order."""

    leaves: list[Any]  # per input: a Tensor (floating point: requires grad) or a raw value
    outputs: list[Any]
    nodes: list[Node]


def record(fn: Callable[..., Any], values: Sequence[Any]) -> Recording:
    """Call ``fn`` on leaves made from ``values`` in keep-inputs mode, and collect its graph.

    Floating-point arrays become tensors that require grad (so every op on them is
    recorded); other values (integer arrays, Python numbers) are passed as they are.
    """
    leaves: list[Any] = []
    for value in values:
        data = value.data if isinstance(value, Tensor) else value
        if isinstance(data, np.generic):  # a numpy scalar (np.float32(2)): a 0-d input
            data = value = np.asarray(data)
        if isinstance(data, np.ndarray) and data.dtype.kind == "f":
            leaves.append(Tensor(data, requires_grad=True))
        else:
            leaves.append(value)
    token = grad_mode.switch(grad_mode.current() | grad_mode.GRAD | grad_mode.KEEP_INPUTS)
    try:
        result = fn(*leaves)
    finally:
        grad_mode.restore(token)
    outputs = _flattened(result)
    for k, out in enumerate(outputs):
        if not isinstance(out, (Tensor, np.ndarray, int, float)):
            raise ExportError(
                f"export: the model returned a {type(out).__name__} as output {k}; "
                "export needs Tensors (or tuples or lists of them, nested as LSTM's (output, (h, c)))"
            )
    return Recording(leaves, outputs, _nodes_of(outputs))


def _flattened(result: Any) -> list[Any]:
    """The outputs in order, nested tuples and lists spread out as ``torch.onnx.export``
    does (an LSTM's ``(output, (h_n, c_n))`` is three outputs), found with a stack."""
    outputs: list[Any] = []
    stack = [result]
    while stack:
        item = stack.pop()
        if isinstance(item, (tuple, list)):
            stack.extend(reversed(item))
        else:
            outputs.append(item)
    return outputs


def _nodes_of(outputs: Sequence[Any]) -> list[Node]:
    """Every node the outputs depend on, parents first (by creation number), found iteratively."""
    stack = [out.grad_fn for out in outputs if isinstance(out, Tensor) and out.grad_fn is not None]
    seen = {id(node) for node in stack}
    nodes: list[Node] = []
    while stack:
        node = stack.pop()
        nodes.append(node)
        for parent in node.parents:
            if type(parent) is Node and id(parent) not in seen:
                seen.add(id(parent))
                stack.append(parent)
    nodes.sort(key=lambda n: n.seq)
    return nodes


@dataclass
class Pairing:
    """Two recordings of one computation, lined up: ``partner`` of each node, leaf and
    output of the first (by id) is its counterpart in the second. Without a second
    recording every value counts as static. ``name`` says how the second one's inputs were
    made (a value probe's: "negated", ...); ``leaves`` maps the id of every input (tensor
    and array) of either recording to the id of the first's, so that a constant that is an
    input of the model is recognised as the same input in both."""

    first: Recording
    partner: dict[int, Any] = field(default_factory=dict)
    paired: bool = False
    name: str = ""
    leaves: dict[int, int] = field(default_factory=dict)
    second: Recording | None = None  # kept alive: the ids in partner and leaves stay unique
    keep: list[Any] = field(default_factory=list)  # so are the recordings of decompositions added later

    def other(self, edge: Any) -> Any:
        """The counterpart of a node or leaf of the first recording (itself when unpaired)."""
        return self.partner.get(id(edge), edge) if self.paired else edge


def pair(first: Recording, second: Recording | None, what: str, name: str = "", same_shapes: bool = False) -> Pairing:
    """Line ``second`` up with ``first``; they must have recorded the same ops in the same order
    (and, with ``same_shapes``, for a value probe, ops whose outputs have the same shapes)."""
    pairing = Pairing(first, name=name, second=second)
    if second is None:
        return pairing
    if [n.fn for n in first.nodes] != [n.fn for n in second.nodes] or len(first.outputs) != len(second.outputs):
        ops_first = ", ".join(n.name for n in first.nodes[:8])
        ops_second = ", ".join(n.name for n in second.nodes[:8])
        if same_shapes:
            cause = (
                f"records different operations for the example inputs {name} ({len(first.nodes)} ops: {ops_first}, "
                f"... and {len(second.nodes)} ops: {ops_second}, ...): its forward branches on the input's values "
                "(Python control flow on .data, .item() or a numpy test), which one ONNX graph cannot express; "
                "move the branch out of forward"
            )
        else:
            cause = (
                f"records different operations for inputs of different sizes or values ({len(first.nodes)} ops: "
                f"{ops_first}, ... and {len(second.nodes)} ops: {ops_second}, ...): its forward branches on the "
                "input (Python control flow on values or shapes), which one ONNX graph cannot express; export it "
                "with dynamic_axes=None, or move the branch out of forward"
            )
        raise ExportError(f"export: {what} {cause}")
    position = {id(node): k for k, node in enumerate(first.nodes)}
    for a, b in zip(first.nodes, second.nodes):
        pairing.partner[id(a)] = b
        if same_shapes and (a.shape != b.shape or a.dtype != b.dtype):
            raise ExportError(
                f"export: the {a.name} in {what} makes a {a.dtype} array of shape {a.shape} for the example inputs "
                f"and a {b.dtype} one of shape {b.shape} for them {name}: its shape depends on the input's values "
                "(a boolean mask or a size read from .data), which a traced ONNX graph cannot follow"
            )
        for p, q in zip(a.parents, b.parents):
            if type(p) is Node and (type(q) is not Node or second.nodes[position[id(p)]] is not q):
                raise ExportError(f"export: {what} connects its {a.name} differently for different inputs")
            if isinstance(p, Tensor):  # a leaf: a parameter (itself in both), or a tensor made in forward
                pairing.partner.setdefault(id(p), q)
    for a, b in zip(first.leaves, second.leaves):
        pairing.partner[id(a)] = b
        pairing.leaves[id(a)] = pairing.leaves[id(b)] = id(a)
        if isinstance(a, Tensor) and isinstance(b, Tensor):
            pairing.leaves[id(a.data)] = pairing.leaves[id(b.data)] = id(a.data)
    for a, b in zip(first.outputs, second.outputs):
        pairing.partner.setdefault(id(a), b)
    pairing.paired = True
    return pairing


def resized(value: Any, axes: Sequence[int]) -> Any:
    """``value`` with each of ``axes`` grown from n to 2n + 1 entries (repeating cyclically),
    or, with no axes, its first axis of length ≥ 2 rolled by one: an input the model accepts
    whose sizes or values differ from ``value``'s.

    2n + 1 rather than n + 1, so that a size computed from n changes too (n // 2 is the same
    for n = 6 and 7, not for 6 and 13), and equal sizes grow alike (a batch axis of two inputs)."""
    data = value.data if isinstance(value, Tensor) else value
    if not isinstance(data, np.ndarray) or data.ndim == 0:
        return value
    if axes:
        for axis in axes:
            size = data.shape[axis]
            data = np.take(data, np.arange(2 * size + 1) % max(size, 1), axis=axis)
        return data
    for axis, size in enumerate(data.shape):
        if size >= 2:
            return np.roll(data, 1, axis=axis)
    return data
