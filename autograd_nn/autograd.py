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
from .engine import Capture, Observer, Observers, needed_nodes, run_backward
from .graph import Context, Node, run_hooks


def backward(
    tensors: Any,
    grad_tensors: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    *,
    inputs: Any = None,
) -> None:
    """Accumulate ∂tensors/∂leaf into ``leaf.grad`` for every leaf that requires grad, as
    ``torch.autograd.backward``.

    ``tensors`` is a tensor or a sequence of them, ``grad_tensors`` their δ likewise (None
    for a one-element tensor). ``inputs`` (a tensor, a sequence, or a dict's values) limits
    the accumulation to those tensors: only the nodes that lead to them run, every other
    leaf's ``.grad`` is left as it is, and a non-leaf among them gets its ``.grad`` as with
    ``retain_grad()`` (which it keeps afterwards, as in PyTorch). One that is not reached
    keeps the ``.grad`` it had.
    """
    tensors = [tensors] if is_tensor(tensors) else list(tensors)
    grad_tensors = _per_output(grad_tensors, len(tensors), "backward", "grad_tensors", "tensors")
    for i, t in enumerate(tensors):
        if not is_tensor(t):
            raise TypeError(f"backward: expected Tensors, got a {type(t).__name__}")
        if not t.requires_grad:
            which = "this tensor" if len(tensors) == 1 else f"element {i} of tensors"
            raise RuntimeError(
                f"backward: {which} does not require grad: it was not computed from "
                "any tensor with requires_grad=True (or it was computed under no_grad)"
            )
    wanted = None if inputs is None else _backward_inputs(inputs)
    if not tensors:
        return
    seeds = [_seed(t, g, create_graph, "backward") for t, g in zip(tensors, grad_tensors)]
    kept: list[Any] = []  # non-leaf inputs: their δ is captured, and kept in .grad once the sweep is done
    capture = None
    if wanted is not None:
        kept = [t for t in wanted.values() if t.grad_fn is not None and not t.retains_grad]  # (the others' hook keeps it)
        capture = Capture({id(t.grad_fn) for t in kept})
    try:
        leaf_grads = _sweep(tensors, seeds, retain_graph, create_graph, capture, wanted)
    finally:
        for t in kept:
            t.retain_grad()  # as PyTorch's retain_grad() of each input: it stays, even when the sweep failed
    owned: set[int] = {id(s) for s in seeds}
    for key, (leaf, grad) in leaf_grads.items():
        if wanted is not None and key not in wanted:
            continue
        if leaf._hooks:
            grad = run_hooks(leaf._hooks, grad, f"a leaf of shape {leaf.shape}")
        _accumulate(leaf, grad, create_graph, owned)
    for t in kept:
        grad = capture.grads.get(id(t.grad_fn))
        if grad is not None:
            keep_grad(t, grad)


def keep_grad(tensor: Any, grad: Any) -> None:
    """tensor.grad += δ for a non-leaf tensor (``retain_grad``, ``backward(inputs=)``): a new sum, not in place."""
    # (a copy numpy makes as a call a compiled step records: np.array would leave it a constant)
    value = grad if is_tensor(grad) else tensor._wrap(np.copy(grad, subok=True))
    tensor.grad = value if tensor.grad is None else tensor.grad + value


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
    grad_outputs = _per_output(grad_outputs, len(outputs), "grad", "grad_outputs", "outputs")
    for i, t in enumerate(list(outputs) + list(inputs)):
        if not is_tensor(t):
            raise TypeError(f"grad: expected Tensors, got a {type(t).__name__}")
        if not t.requires_grad:
            which = f"output {i}" if i < len(outputs) else f"input {i - len(outputs)}"
            raise RuntimeError(f"grad: {which} does not require grad")
    seeds = [_seed(o, g, create_graph, "grad") for o, g in zip(outputs, grad_outputs)]
    capture = Capture({id(t.grad_fn) for t in inputs if t.grad_fn is not None})
    leaf_grads = _sweep(outputs, seeds, retain_graph, create_graph, capture, {id(t): t for t in inputs}, ends=True)
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


def _per_output(given: Any, count: int, op_name: str, name: str, of: str) -> list[Any]:
    """One δ per output: None for each, a lone tensor or array for the only one, or a sequence."""
    if given is None or is_tensor(given) or isinstance(given, np.ndarray):
        given = [given] * count if given is None else [given]
    else:
        given = list(given)
    if len(given) != count:
        raise ValueError(f"{op_name}: got {len(given)} {name} for {count} {of}")
    return given


def _backward_inputs(inputs: Any) -> dict[int, Any]:
    """``backward``'s ``inputs=``, checked before anything runs: {id: tensor}, each once."""
    if is_tensor(inputs):
        inputs = [inputs]
    elif isinstance(inputs, dict):  # dict(model.named_parameters()), as PyTorch
        inputs = list(inputs.values())
    else:
        try:
            inputs = list(inputs)
        except TypeError:
            raise TypeError(
                f"backward: inputs must be a Tensor or a sequence of Tensors, got a {type(inputs).__name__}"
            ) from None
    if not inputs:
        raise RuntimeError("backward: inputs cannot be empty; pass inputs=None (the default) to accumulate into every leaf")
    wanted: dict[int, Any] = {}
    for i, t in enumerate(inputs):
        if not is_tensor(t):
            raise TypeError(f"backward: inputs[{i}] is a {type(t).__name__}; expected a Tensor")
        if not t.requires_grad:
            raise RuntimeError(
                f"backward: inputs[{i}] (shape {t.shape}) does not require grad, so no gradient can be "
                "accumulated into it; expected tensors with requires_grad=True"
            )
        wanted[id(t)] = t
    return wanted


def _sweep(
    outputs: Sequence[Any],
    seeds: list[Any],
    retain_graph: bool | None,
    create_graph: bool,
    extra: Observer | None,
    targets: dict[int, Any] | None = None,
    ends: bool = False,
) -> dict[int, list[Any]]:
    """The sweep from ``outputs``; with ``targets`` ({id: tensor}) only toward them, and with
    ``ends`` a target's own derivative runs only if it leads to another (``grad``, as PyTorch's)."""
    roots = [o.grad_fn or o for o in outputs]
    needed = None
    if targets is not None:
        needed = needed_nodes(roots, {id(t.grad_fn or t) for t in targets.values()}, run_targets=not ends)
    observer = extra
    if grad_mode.current() & grad_mode.ANOMALY:
        observer = AnomalyObserver() if extra is None else Observers([extra, AnomalyObserver()])
    differentiable = None
    if create_graph:
        wrap = outputs[0]._wrap

        def differentiable(node: Node) -> _DifferentiableContext:
            return _DifferentiableContext(node, wrap)

    return run_backward(
        roots,
        seeds,
        retain_graph=create_graph if retain_graph is None else retain_graph,
        create_graph=create_graph,
        differentiable_ctx=differentiable,
        observer=observer,
        needed=needed,
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
