"""The autograd front end: ``Tensor.backward``, ``autograd_nn.grad`` and what they share.

Both seed the output gradients, run the engine's one front door (``run_backward``) with
the observers the thread's mode asks for, and then either accumulate into the leaves'
``.grad`` (``backward``) or hand the gradients back (``grad``). Tensor hooks on leaves
run here, on each leaf's total δ; hooks on nodes run in the engine.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from . import _surface, _tracing, grad_mode, versions
from ._record import is_tensor
from .anomaly import AnomalyObserver
from .engine import Capture, Observer, Observers, run_backward
from .graph import Context, Node, run_hooks


def backward(
    tensor: Any, gradient: Any = None, retain_graph: bool | None = None, create_graph: bool = False
) -> None:
    """Accumulate ∂tensor/∂leaf into ``leaf.grad`` for every leaf that requires grad."""
    if not tensor.requires_grad:
        raise RuntimeError(
            "backward: this tensor does not require grad: it was not computed from "
            "any tensor with requires_grad=True (or it was computed under no_grad)"
        )
    seed = _seed(tensor, gradient, create_graph, "backward")
    leaf_grads = _sweep([tensor], [seed], retain_graph, create_graph, None)
    owned: set[int] = {id(seed)}
    for leaf, grad in leaf_grads.values():
        if leaf._hooks:
            grad = run_hooks(leaf._hooks, grad, f"a leaf of shape {leaf.shape}")
        _accumulate(leaf, grad, create_graph, owned)


def grad(
    outputs: Any,
    inputs: Any,
    grad_outputs: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    allow_unused: bool = False,
) -> tuple[Any, ...]:
    """Return ∂outputs/∂inputs (weighted by ``grad_outputs``) as a tuple, one per input.

    Unlike ``backward`` this leaves every ``.grad`` untouched. Inputs may be leaves or
    intermediate tensors. With ``create_graph=True`` the results are differentiable,
    which gives second derivatives and Hessian-vector products.

    >>> import autograd_nn as ag
    >>> x = ag.tensor(3.0, requires_grad=True)
    >>> (dy,) = ag.grad(x ** 3, x, create_graph=True)
    >>> (d2y,) = ag.grad(dy, x)
    >>> dy.item(), d2y.item()
    (27.0, 18.0)
    """
    outputs = [outputs] if is_tensor(outputs) else list(outputs)
    inputs = [inputs] if is_tensor(inputs) else list(inputs)
    if grad_outputs is None or is_tensor(grad_outputs) or isinstance(grad_outputs, np.ndarray):
        grad_outputs = [grad_outputs] * len(outputs) if grad_outputs is None else [grad_outputs]
    if len(grad_outputs) != len(outputs):
        raise ValueError(f"grad: got {len(grad_outputs)} grad_outputs for {len(outputs)} outputs")
    for i, t in enumerate(list(outputs) + list(inputs)):
        if not is_tensor(t):
            raise TypeError(f"grad: expected Tensors, got a {type(t).__name__}")
        if not t.requires_grad:
            which = f"output {i}" if i < len(outputs) else f"input {i - len(outputs)}"
            raise RuntimeError(f"grad: {which} does not require grad")
    seeds = [_seed(o, g, create_graph, "grad") for o, g in zip(outputs, grad_outputs)]
    capture = Capture({id(t.grad_fn) for t in inputs if t.grad_fn is not None})
    leaf_grads = _sweep(outputs, seeds, retain_graph, create_graph, capture)
    owned = {id(s) for s in seeds}
    wrap = outputs[0]._wrap
    results: list[Any] = []
    for i, t in enumerate(inputs):
        if t.grad_fn is None:
            entry = leaf_grads.get(id(t))
            g = None if entry is None else entry[1]
            if g is not None and t._hooks:
                g = run_hooks(t._hooks, g, f"a leaf of shape {t.shape}")
        else:
            g = capture.grads.get(id(t.grad_fn))
        if g is None:
            if not allow_unused:
                raise RuntimeError(
                    f"grad: input {i} was not used to compute the outputs; pass allow_unused=True to get None for it"
                )
            results.append(None)
        elif is_tensor(g):
            results.append(g)
        else:
            results.append(wrap(_owned_copy(g, owned)))
    return tuple(results)


def increment_version(tensor: Any) -> None:
    """Say that ``tensor``'s memory was written behind autograd's back (``tensor.data[...] = v``).

    Every graph node that saved it then refuses to backpropagate through the old values.
    The optimizers, ``load_state_dict`` and ``nn.init`` call it for what they write.
    """
    versions.note_write(tensor.data)


def _sweep(
    outputs: Sequence[Any], seeds: list[Any], retain_graph: bool | None, create_graph: bool, extra: Observer | None
) -> dict[int, list[Any]]:
    observer = extra
    if grad_mode.current() & grad_mode.ANOMALY:
        observer = AnomalyObserver() if extra is None else Observers([extra, AnomalyObserver()])
    differentiable = None
    if create_graph:
        wrap = outputs[0]._wrap

        def differentiable(node: Node) -> _DifferentiableContext:
            return _DifferentiableContext(node, wrap)

    return run_backward(
        [o.grad_fn or o for o in outputs],
        seeds,
        retain_graph=create_graph if retain_graph is None else retain_graph,
        create_graph=create_graph,
        differentiable_ctx=differentiable,
        observer=observer,
    )


class _DifferentiableContext(Context):
    """A node's ctx as ``create_graph`` shows it: the op's own attributes, its saved inputs
    and outputs as Tensors wired into the graph, and ``xp`` the Tensor namespace."""

    xp = _surface.tensor_namespace

    def __init__(self, node: Node, wrap: Any):
        ctx = node.ctx
        self.__dict__ = ctx.__dict__
        self.needs_input_grad = ctx.needs_input_grad
        self.saved_tensors = tuple(_wired(node, value, source, wrap) for value, source in zip(ctx.saved_tensors, node.saved_sources))


def _wired(node: Node, value: Any, source: int | None, wrap: Any) -> Any:
    if source is None:
        return value
    edge = node if source == -1 else node.parents[source]
    if edge is None:
        return value
    if type(edge) is Node:
        return wrap(np.asanyarray(value), edge)
    return edge  # a leaf that requires grad: the saved array is its data


def _seed(output: Any, gradient: Any, create_graph: bool, op_name: str) -> Any:
    """δ for an output: ones for a one-element output, else the given gradient, checked."""
    if gradient is None:
        data = output.data
        if data.size != 1:
            raise RuntimeError(
                f"{op_name}: a gradient can be created implicitly only for a one-element "
                f"output, but this one has shape {output.shape}; pass gradient= of that shape"
            )
        # A plain 0-d loss is the usual case: np.array is one C call, np.ones_like a Python
        # function (kept for a recording's watched arrays, whose ones it must see being made).
        seed: Any = np.array(1, data.dtype) if type(data) is np.ndarray and not data.shape else np.ones_like(data)
    else:
        if is_tensor(gradient) and _tracing.recording() is not None:  # made before the call: watched, as op inputs are
            _tracing.adopt((gradient,))
        seed = gradient.data if is_tensor(gradient) and not create_graph else gradient
        values = np.asanyarray(seed.data if is_tensor(seed) else seed)
        if values.dtype.kind not in "biuf":
            raise TypeError(
                f"{op_name}: gradient must hold real numbers, got dtype {values.dtype}"
                + (" (the imaginary part would be dropped)" if values.dtype.kind == "c" else "")
            )
        if values.shape != output.shape:
            raise ValueError(
                f"{op_name}: gradient has shape {values.shape} but the output has shape "
                f"{output.shape}; they must match"
            )
        if not is_tensor(seed):
            seed = _tracing.as_array(seed, output.dtype)
        elif seed.dtype != output.dtype:
            seed = seed.astype(output.dtype)
    if create_graph and not is_tensor(seed):
        seed = output._wrap(seed)
    return seed


def _owned_copy(grad: Any, owned: set[int]) -> np.ndarray:
    """``grad`` as an ndarray no other gradient or caller can see: copy views,
    read-only broadcasts, and arrays already handed out in this backward."""
    grad = np.asanyarray(grad)
    if grad.base is not None or id(grad) in owned or not grad.flags.writeable:  # a view, ours already, or read-only
        grad = grad.copy()
    owned.add(id(grad))
    return grad


def _accumulate(leaf: Any, grad: Any, create_graph: bool, owned: set[int]) -> None:
    """leaf.grad += δ: in place, as PyTorch does (a new differentiable sum under create_graph)."""
    previous = leaf._grad
    if grad_mode._MODE.get() & grad_mode.TRACE:
        _tracing.note_grad(leaf, read=True)
        if previous is not None:
            _tracing.adopt((previous,))
    if create_graph:
        if not is_tensor(grad):
            grad = leaf._wrap(np.asanyarray(grad))
        leaf.grad = grad if previous is None else previous + grad
    elif previous is None:
        leaf._grad = leaf._wrap(_owned_copy(grad, owned))  # (the slot: the setter acts on None only)
    else:
        total = previous.data
        grad = np.asanyarray(grad)
        if previous.grad_fn is None and total.flags.writeable and np.can_cast(grad.dtype, total.dtype, "same_kind"):
            np.add(total, grad, out=total)
            versions.note_write(total)
        else:
            previous.data = total + grad
