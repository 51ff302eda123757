"""The reverse sweep: gradients from outputs back to every node and leaf.

The engine knows nodes and edges, never a concrete op: it calls ``node.fn.backward``,
sums each gradient back to its input's shape (the one place broadcasting is undone),
casts it to the input's dtype, and adds up the contributions of every use of a value.
Nothing here recurses, so a chain of a million ops backpropagates like a short one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from ._shapes import unbroadcast
from .function import Node, _GradMode


class GraphFreedError(RuntimeError):
    """Backward reached a node whose saved arrays an earlier backward released."""


def count_consumers(roots: Iterable[Any]) -> dict[int, int]:
    """For each node reachable from ``roots``, how many edges point at it.

    Doubles as the check that no node on the way was freed, so a failing backward
    raises before it has changed anything.
    """
    consumers: dict[int, int] = {}
    stack = [r for r in roots if type(r) is Node]
    seen = {id(r) for r in stack}
    while stack:
        node = stack.pop()
        if node.saved is None:
            raise GraphFreedError(
                f"backward: the graph through {node.name} was already freed by an earlier "
                "backward (saved arrays are released to save memory); pass "
                "retain_graph=True to the first backward to backpropagate through it again"
            )
        for parent in node.parents:
            if type(parent) is Node:
                key = id(parent)
                consumers[key] = consumers.get(key, 0) + 1
                if key not in seen:
                    seen.add(key)
                    stack.append(parent)
    return consumers


def run_backward(
    roots: list[Any],
    root_grads: list[Any],
    *,
    retain_graph: bool,
    create_graph: bool,
    capture: frozenset[int] | set[int] = frozenset(),
    differentiable_ctx: Callable[[Node], Any] | None = None,
    run_hooks: bool = True,
) -> tuple[dict[int, list[Any]], dict[int, Any]]:
    """Propagate ``root_grads`` from the edges ``roots`` to every leaf.

    Returns ``(leaf_grads, captured)``: ``leaf_grads[id(leaf)] = [leaf, δ]`` for every
    leaf reached, and ``captured[id(node)] = δ`` for the nodes listed in ``capture``
    (the gradient with respect to that node's output). Leaves' ``.grad`` is not touched:
    the caller decides whether to accumulate or to return. ``run_hooks=False`` skips the
    nodes' hooks (``retain_grad`` among them), so a read-only observer such as the graph
    renderer leaves every ``.grad`` and the gradient flow as they were.

    Each node runs its derivative once, after all its consumers have contributed, so a
    value used several times gets the sum of its gradients (``δ = Σ consumers``).
    """
    consumers = count_consumers(roots)
    pending: dict[int, Any] = {}
    leaf_grads: dict[int, list[Any]] = {}
    captured: dict[int, Any] = {}
    ready: list[Node] = []
    for edge, grad in zip(roots, root_grads):
        _deliver(edge, grad, pending, leaf_grads)
        if type(edge) is Node and consumers.get(id(edge), 0) == 0 and edge not in ready:
            ready.append(edge)

    previous_mode = _GradMode.enabled
    _GradMode.enabled = create_graph  # record the backward only when asked to
    try:
        while ready:
            node = ready.pop()
            grad = pending.pop(id(node), None)
            parents = node.parents
            if grad is None:  # nothing flowed here (e.g. a backward returned None)
                input_grads: tuple[Any, ...] = (None,) * len(parents)
            else:
                if node.hooks and run_hooks:
                    for hook in node.hooks:
                        replaced = hook(grad)
                        if replaced is not None:
                            grad = replaced
                if id(node) in capture:
                    captured[id(node)] = grad
                ctx = differentiable_ctx(node) if create_graph else node
                input_grads = node.fn.backward(ctx, grad)
                if type(input_grads) is not tuple:
                    input_grads = (input_grads,)
                if len(input_grads) != len(parents):
                    raise RuntimeError(
                        f"{node.name}.backward returned {len(input_grads)} gradient(s) for {len(parents)} input(s)"
                    )
                if not retain_graph:
                    node.saved = None
            for parent, g in zip(parents, input_grads):
                if parent is None:
                    continue
                if g is not None:
                    if g.shape != parent.shape:
                        g = unbroadcast(g, parent.shape, node.name)
                    if g.dtype != parent.dtype:
                        g = g.astype(parent.dtype)
                    _deliver(parent, g, pending, leaf_grads)
                if type(parent) is Node:
                    remaining = consumers[id(parent)] - 1
                    consumers[id(parent)] = remaining
                    if remaining == 0:
                        ready.append(parent)
    finally:
        _GradMode.enabled = previous_mode
    return leaf_grads, captured


def _deliver(edge: Any, grad: Any, pending: dict[int, Any], leaf_grads: dict[int, list[Any]]) -> None:
    """Add one contribution δ to the running sum for ``edge`` (a node or a leaf)."""
    key = id(edge)
    if type(edge) is Node:
        previous = pending.get(key)
        pending[key] = grad if previous is None else previous + grad
    else:
        entry = leaf_grads.get(key)
        if entry is None:
            leaf_grads[key] = [edge, grad]
        else:
            entry[1] = entry[1] + grad
