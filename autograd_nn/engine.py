"""The reverse sweep: gradients from outputs back to every node and leaf.

The engine knows nodes and edges, never a concrete op: it calls ``node.fn.backward``,
sums each gradient back to its input's shape (the one place broadcasting is undone),
casts it to the input's dtype, and adds up the contributions of every use of a value.
Nothing here recurses, so a chain of a million ops backpropagates like a short one.
"""

from __future__ import annotations

from collections.abc import Callable
from heapq import heappop, heappush
from typing import Any

from ._shapes import unbroadcast
from .function import Node, _GradMode


class GraphFreedError(RuntimeError):
    """Backward reached a node whose saved arrays an earlier backward released."""


def run_backward(
    roots: list[Any],
    root_grads: list[Any],
    *,
    retain_graph: bool,
    create_graph: bool,
    capture: frozenset[int] | set[int] = frozenset(),
    differentiable_ctx: Callable[[Node], Any] | None = None,
    run_hooks: bool = True,
    reductions: list[tuple[Node, Any, tuple[int, ...]]] | None = None,
) -> tuple[dict[int, list[Any]], dict[int, Any]]:
    """Propagate ``root_grads`` from the edges ``roots`` to every leaf.

    Returns ``(leaf_grads, captured)``: ``leaf_grads[id(leaf)] = [leaf, δ]`` for every
    leaf reached, and ``captured[id(node)] = δ`` for the nodes listed in ``capture``
    (the gradient with respect to that node's output). Leaves' ``.grad`` is not touched:
    the caller decides whether to accumulate or to return, so a backward that fails
    (say, on a graph an earlier backward freed) changes no ``.grad``. ``run_hooks=False``
    skips the nodes' hooks (``retain_grad`` among them), so a read-only observer such as
    the graph renderer leaves every ``.grad`` and the gradient flow as they were. A
    ``reductions`` list receives ``(node, parent, shape)`` for every gradient the sweep
    sums back from a broadcast ``shape`` to its parent's shape.

    Each node runs its derivative once, after all its consumers have contributed, so a
    value used several times gets the sum of its gradients (``δ = Σ consumers``). The
    order needs no counting pass: a node is always made after the nodes it consumes, so
    taking the most recently made node that has received a δ (``seq``, through a heap)
    reaches every node after all of its consumers.
    """
    pending: dict[Node, Any] = {}  # node -> δ summed so far (nodes hash by identity)
    leaf_grads: dict[int, list[Any]] = {}
    captured: dict[int, Any] = {}
    heap: list[tuple[int, Node]] = []  # (-seq, node): the latest-made node pops first
    for edge, grad in zip(roots, root_grads):
        _deliver(edge, grad, pending, leaf_grads, heap)

    previous_mode = _GradMode.enabled
    _GradMode.enabled = create_graph  # record the backward only when asked to
    try:
        while heap:
            node = heappop(heap)[1]
            grad = pending.pop(node)
            if node.saved is None:
                raise GraphFreedError(
                    f"backward: the graph through {node.name} was already freed by an earlier "
                    "backward (saved arrays are released to save memory); pass "
                    "retain_graph=True to the first backward to backpropagate through it again"
                )
            if node.hooks and run_hooks:
                for hook in node.hooks:
                    replaced = hook(grad)
                    if replaced is not None:
                        grad = replaced
            if capture and id(node) in capture:
                captured[id(node)] = grad
            input_grads = node.fn.backward(differentiable_ctx(node) if create_graph else node, grad)
            if type(input_grads) is not tuple:
                input_grads = (input_grads,)
            parents = node.parents
            if len(input_grads) != len(parents):
                raise RuntimeError(
                    f"{node.name}.backward returned {len(input_grads)} gradient(s) for {len(parents)} input(s)"
                )
            if not retain_graph:
                node.saved = None
            for parent, g in zip(parents, input_grads):
                if parent is None or g is None:
                    continue
                if g.shape != parent.shape:
                    if reductions is not None:
                        reductions.append((node, parent, g.shape))
                    g = unbroadcast(g, parent.shape, node.name)
                dtype = parent.dtype
                if g.dtype is not dtype and g.dtype != dtype:
                    g = g.astype(dtype)
                if type(parent) is Node:  # δ = Σ over consumers; the first one schedules the node
                    previous = pending.get(parent)
                    if previous is None:
                        pending[parent] = g
                        heappush(heap, (-parent.seq, parent))
                    else:
                        pending[parent] = previous + g
                else:
                    _deliver(parent, g, pending, leaf_grads, heap)
    finally:
        _GradMode.enabled = previous_mode
    return leaf_grads, captured


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
