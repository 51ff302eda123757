"""The reverse sweep: gradients from outputs back to every node and leaf.

The engine knows nodes and edges, never a concrete op and never the Tensor class: it
calls ``node.fn.backward``, sums each gradient back to its input's shape (the one place
broadcasting is undone), casts it to the input's dtype, and adds up the contributions of
every use of a value. Nothing here recurses, so a chain of a million ops backpropagates
like a short one.

``run_backward`` is the one front door: ``Tensor.backward``, ``autograd_nn.grad`` and
the renderer all come through it. What they need beyond the gradients (a node's δ, the
broadcast sums, anomaly checks) they get from an ``Observer``, not from flags. A sweep
toward chosen tensors (``grad``, ``backward(inputs=)``) runs only the nodes ``needed``
says lead to them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from heapq import heappop, heappush
from typing import Any

import numpy as np

from . import grad_mode, versions
from ._shapes import unbroadcast
from .graph import Node, run_hooks


class GraphFreedError(RuntimeError):
    """Backward reached a node whose saved arrays an earlier backward released."""


class Observer:
    """Watches a sweep without changing it; override what you need.

    ``runs_hooks = False`` makes a read-only sweep: the nodes' hooks (``retain_grad``
    among them) stay silent, so observing leaves every ``.grad`` and every gradient as
    it would have been.
    """

    runs_hooks = True

    def node(self, node: Node, grad: Any) -> None:
        """``grad`` is the complete δ of ``node``'s output, about to enter its derivative."""

    def derivative(self, node: Node, input_grads: tuple[Any, ...]) -> None:
        """What ``node``'s derivative returned, one entry per input."""

    def reduced(self, node: Node, index: int, shape: tuple[int, ...]) -> None:
        """The gradient for input ``index`` of ``node`` had the broadcast ``shape`` and was summed back."""


class Observers(Observer):
    """Several observers as one."""

    def __init__(self, observers: Sequence[Observer]):
        self._all = list(observers)
        self.runs_hooks = all(o.runs_hooks for o in self._all)

    def node(self, node: Node, grad: Any) -> None:
        for o in self._all:
            o.node(node, grad)

    def derivative(self, node: Node, input_grads: tuple[Any, ...]) -> None:
        for o in self._all:
            o.derivative(node, input_grads)

    def reduced(self, node: Node, index: int, shape: tuple[int, ...]) -> None:
        for o in self._all:
            o.reduced(node, index, shape)


class Capture(Observer):
    """Keeps δ for the nodes in ``wanted`` (ids): gradients with respect to intermediate tensors."""

    def __init__(self, wanted: set[int]):
        self.wanted = wanted
        self.grads: dict[int, Any] = {}

    def node(self, node: Node, grad: Any) -> None:
        if id(node) in self.wanted:
            self.grads[id(node)] = grad


def run_backward(
    roots: Sequence[Any],
    root_grads: Sequence[Any],
    *,
    retain_graph: bool,
    create_graph: bool,
    differentiable_ctx: Callable[[Node], Any] | None = None,
    observer: Observer | None = None,
    needed: dict[Node, bool] | None = None,
) -> dict[int, list[Any]]:
    """Propagate ``root_grads`` from the edges ``roots`` to every leaf.

    Returns ``{id(leaf): [leaf, δ]}`` for every leaf reached. Leaves' ``.grad`` is not
    touched: the caller decides whether to accumulate or to return, so a backward that
    fails (on a freed graph, a modified saved tensor) changes no ``.grad``. With
    ``create_graph`` each derivative runs on ``differentiable_ctx(node)`` (saved values
    as Tensors, ``xp`` the Tensor namespace), so the sweep itself is recorded.

    Each node runs its derivative once, after all its consumers have contributed, so a
    value used several times gets the sum of its gradients (``δ = Σ consumers``). The
    order needs no counting pass: a node is always made after the nodes it consumes, so
    taking the most recently made node that has received a δ (``seq``, through a heap,
    with the latest one held beside it so that a chain is one variable, not heap work)
    reaches every node after all of its consumers.

    With ``needed`` (from ``needed_nodes``) a node it does not hold is passed over (no hook,
    no derivative: nothing below it was asked for), and one it maps to False only has its
    hooks run and its δ observed (a ``Capture``'s end), as PyTorch's engine does.
    """
    pending: dict[Node, Any] = {}  # node -> δ summed so far (nodes hash by identity)
    leaf_grads: dict[int, list[Any]] = {}
    heap: list[tuple[int, Node]] = []  # (-seq, node): the latest-made node pops first
    for edge, grad in zip(roots, root_grads):
        _deliver(edge, grad, pending, leaf_grads, heap)
    hooks_on = observer is None or observer.runs_hooks
    mode = grad_mode.current()
    token = grad_mode.switch(mode | grad_mode.GRAD if create_graph else mode & ~grad_mode.GRAD)
    # The latest-made node with a δ, and its δ, held beside the heap and the pending sums:
    # a chain (each node feeding one) then touches neither.
    latest: Node | None = None
    latest_grad: Any = None
    try:
        while True:
            if latest is not None:  # (δ handed over, not kept: it is freed as soon as it is used)
                node = latest
                grad = latest_grad
                latest = latest_grad = None
            elif heap:
                node = heappop(heap)[1]
                grad = pending.pop(node)
            else:
                break
            if needed is not None:
                run = needed.get(node)
                if not run:  # None: no path to what was asked for; False: its δ is wanted, not what lies below
                    if run is not None:
                        if node.hooks and hooks_on:
                            grad = run_hooks(node.hooks, grad, f"the output of {node.name}")
                        if observer is not None:
                            observer.node(node, grad)
                    continue
            ctx = node.ctx
            if ctx is None:
                raise GraphFreedError(
                    f"backward: the graph through {node.name} was already freed by an earlier "
                    "backward (saved arrays are released to save memory); pass "
                    "retain_graph=True to the first backward to backpropagate through it again"
                )
            if versions.latest > node.seq and ctx.saved_tensors:  # written in place since it was made?
                _check_versions(node)
            if node.hooks and hooks_on:
                grad = run_hooks(node.hooks, grad, f"the output of {node.name}")
            if observer is not None:
                observer.node(node, grad)
            if create_graph:
                ctx = differentiable_ctx(node)
            input_grads = node.fn.backward(ctx, grad)
            if type(input_grads) is not tuple:
                input_grads = (input_grads,)
            parents = node.parents
            last = len(parents) - 1
            if len(input_grads) != last + 1:
                raise RuntimeError(
                    f"{node.name}.backward returned {len(input_grads)} gradient(s) for {last + 1} input(s)"
                )
            if observer is not None:
                observer.derivative(node, input_grads)
            if not retain_graph:
                node.ctx = None  # the saved arrays and the op's own attributes go with it
            i = -1
            while i < last:  # input i (by index, not a zip: on Python 3.11 that costs ~1 K instructions per node)
                i += 1
                parent = parents[i]
                g = input_grads[i]
                if parent is None or g is None:
                    continue
                try:
                    shape = g.shape
                    dtype = g.dtype
                except AttributeError:
                    raise _not_an_array(node, i, g) from None
                if shape != parent.shape:
                    if observer is not None:
                        observer.reduced(node, i, shape)
                    g = unbroadcast(g, parent.shape, node.name, i)
                if dtype is not parent.dtype and dtype != parent.dtype:
                    g = g.astype(parent.dtype)
                if type(parent) is not Node:
                    _deliver(parent, g, pending, leaf_grads, heap)  # a leaf
                elif latest is None and not pending:  # the only node with a δ (so the heap is empty): next
                    latest = parent
                    latest_grad = g
                elif parent is latest:  # δ = Σ over consumers; the first one schedules the node
                    latest_grad = latest_grad + g
                else:
                    previous = pending.get(parent)
                    if previous is not None:
                        pending[parent] = previous + g
                    elif latest is None and not (heap and heap[0][0] < -parent.seq):
                        latest, latest_grad = parent, g  # the latest-made pending node: next
                    elif latest is not None and parent.seq > latest.seq:
                        pending[latest] = latest_grad
                        heappush(heap, (-latest.seq, latest))
                        latest, latest_grad = parent, g
                    else:
                        pending[parent] = g
                        heappush(heap, (-parent.seq, parent))
    finally:
        grad_mode.restore(token)
    return leaf_grads


def needed_nodes(roots: Sequence[Any], targets: set[int], run_targets: bool) -> dict[Node, bool]:
    """The nodes a sweep from ``roots`` toward ``targets`` (ids of nodes and leaves) must visit.

    A node maps to True (run its derivative) when one of its parents is a target or leads to
    one; a target node that leads to no other one maps to ``run_targets``. Every other node
    is absent, so the sweep does no work in branches that cannot reach a target. No
    recursion: collect the nodes, then decide in creation order, parents (made earlier) first.
    """
    stack = [edge for edge in roots if type(edge) is Node]
    seen = set(stack)
    while stack:
        for parent in stack.pop().parents:
            if type(parent) is Node and parent not in seen:
                seen.add(parent)
                stack.append(parent)
    needed: dict[Node, bool] = {}
    for node in sorted(seen, key=_seq):
        if any(p in needed if type(p) is Node else p is not None and id(p) in targets for p in node.parents):
            needed[node] = True
        elif id(node) in targets:
            needed[node] = run_targets
    return needed


def _seq(node: Node) -> int:
    return node.seq


def _deliver(edge: Any, grad: Any, pending: dict[Node, Any], leaf_grads: dict[int, list[Any]], heap: list[Any]) -> None:
    """Add one contribution δ to the running sum for ``edge`` (a node or a leaf)."""
    if type(edge) is Node:
        previous = pending.get(edge)
        if previous is None:
            pending[edge] = grad
            heappush(heap, (-edge.seq, edge))
        else:
            pending[edge] = previous + grad
    else:
        key = id(edge)
        entry = leaf_grads.get(key)
        if entry is None:
            leaf_grads[key] = [edge, grad]
        else:
            entry[1] = entry[1] + grad


def _check_versions(node: Node) -> None:
    """Refuse to run a derivative on saved arrays that were written in place since."""
    for index, value in enumerate(node.ctx.saved_tensors):
        written = versions.written_since(value, node.seq) if isinstance(value, np.ndarray) else None
        if written is not None:
            source = node.saved_sources[index]
            which = "its output" if source == -1 else f"input {source}" if source is not None else "a constant"
            raise RuntimeError(
                f"backward: a tensor {node.name} saved for its derivative ({which}, shape {value.shape}, "
                f"dtype {value.dtype}) was modified by an in-place operation: it is at version {written[1]}; "
                f"expected version {written[0]}. Make the in-place change after backward, or use the "
                "out-of-place op (x = x + 1 instead of x += 1)"
            )


def _not_an_array(node: Node, index: int, g: Any) -> TypeError:
    return TypeError(
        f"{node.name}.backward returned a {type(g).__name__} as the gradient of input {index}; expected an "
        "ndarray (a Tensor under create_graph) or None; return several gradients as a tuple"
    )
