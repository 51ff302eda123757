"""What the graph is made of: the engine's ``Node``, an op's own ``Context``, and the
handle a hook returns.

A recorded op leaves two objects: its ``Context`` (``ctx``), which belongs to the op
(anything it sets there is its own business), and a ``Node``, which belongs to the
engine (edges, order, saved-value bookkeeping). Keeping them apart means no name an op
picks for ``ctx.something`` can corrupt the graph.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import _xp


class _SavedTensors:
    """``ctx.saved``: ``ctx.saved_tensors``, unless the op has set a ``saved`` of its own.

    A descriptor with no ``__set__``, so a value the op sets goes to the ctx's own dict and
    wins, as for any other name. (Not ``__getattr__`` on Context: a class with one makes
    every attribute read of every ctx take the slow generic path.)
    """

    def __get__(self, ctx: Any, owner: Any = None) -> Any:
        return self if ctx is None else ctx.saved_tensors


class Context:
    """An op's own ``ctx``: what its ``forward`` leaves for its ``backward``.

    ``ctx.save_for_backward(*values)`` keeps inputs and outputs (the engine records which
    input or output each one is, and checks at backward that none was modified in place
    since); read them back as ``ctx.saved_tensors`` (or ``ctx.saved``, unless the op has
    set a ``saved`` of its own). ``ctx.needs_input_grad[i]`` says whether input ``i``
    needs a gradient. ``ctx.xp`` is the array namespace derivative formulas are written
    against (see ``autograd_nn._xp``).

    Reserved: ``save_for_backward``, ``saved_tensors`` (what it sets), ``needs_input_grad``
    and ``xp`` are the engine's; an op should read them, not set them. Any other attribute
    (``ctx.axis = axis``, ``ctx.saved = ...``, ``ctx.parents = ...``) is the op's own.
    """

    __slots__ = ("needs_input_grad", "saved_tensors", "__dict__")

    xp = _xp.numpy_namespace

    needs_input_grad: tuple[bool, ...]
    saved_tensors: tuple[Any, ...]  # what save_for_backward kept (PyTorch's name)

    def save_for_backward(self, *values: Any) -> None:
        """Keep inputs and/or outputs of ``forward`` for ``backward``."""
        self.saved_tensors = values

    saved = _SavedTensors()


class NullContext:
    """The ``ctx`` an op's forward gets when nothing is recorded: saving is a no-op."""

    __slots__ = ("__dict__",)

    xp = _xp.numpy_namespace
    needs_input_grad: tuple[bool, ...] = ()

    def save_for_backward(self, *values: Any) -> None:
        pass


class RemovableHandle:
    """What ``register_hook`` returns: ``handle.remove()`` takes the hook out again."""

    __slots__ = ("_hooks", "_key")

    _next_key = 0

    def __init__(self, hooks: dict[int, Any]) -> None:
        RemovableHandle._next_key += 1
        self._hooks, self._key = hooks, RemovableHandle._next_key

    def remove(self) -> None:
        """Remove the hook (a second call does nothing)."""
        self._hooks.pop(self._key, None)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()


def add_hook(hooks: dict[int, Any] | None, hook: Callable[[Any], Any]) -> tuple[dict[int, Any], RemovableHandle]:
    """``hooks`` with ``hook`` added (a new dict if there was none), and its handle."""
    if not callable(hook):
        raise TypeError(f"register_hook: a hook must be callable, got {type(hook).__name__}")
    hooks = {} if hooks is None else hooks
    handle = RemovableHandle(hooks)
    hooks[handle._key] = hook
    return hooks, handle


def run_hooks(hooks: dict[int, Any], grad: Any, what: str) -> Any:
    """Call each hook with δ in order; a returned value replaces δ and must keep its shape and dtype.
    ``retain_grad``'s runs last, whenever it was registered (as PyTorch's): ``.grad`` is δ as the
    tensor's hooks leave it."""
    ordered = list(hooks.values())
    if len(ordered) > 1:
        ordered.sort(key=lambda hook: getattr(hook, "_retains_grad", False))  # (stable: the others keep their order)
    for hook in ordered:
        replaced = hook(grad)
        if replaced is None:
            continue
        shape, dtype = getattr(replaced, "shape", None), getattr(replaced, "dtype", None)
        if shape != grad.shape or dtype != grad.dtype:
            name = getattr(hook, "__qualname__", type(hook).__name__)
            raise RuntimeError(
                f"hook {name} on {what} returned a gradient of shape {shape} and dtype {dtype}; expected shape "
                f"{grad.shape} and dtype {grad.dtype}, as the gradient it was given"
            )
        grad = replaced
    return grad


class Node:
    """One recorded operation, as the engine sees it; the ``grad_fn`` of the tensor it made.

    ``parents[i]`` is the edge of input ``i``: the ``Node`` that produced it, the leaf
    Tensor itself if it is a leaf that requires grad, or None if it needs no gradient.
    ``ctx`` is the op's own context (None once backward has freed it), ``params`` the
    keyword parameters it was called with, and ``saved_sources[k]`` says what saved value
    ``k`` is (input ``i``, ``-1`` for the output, None for a constant). Whether a saved
    array was written in place since is asked of ``autograd_nn.versions``, by ``seq``.
    """

    # Slots for what every node has (a graph may hold millions); the rarely set hooks and
    # trace default to the class's None and go to a dict only on the nodes that have them.
    # __weakref__: the collector's pacing (collector.py) watches a few nodes through weak references.
    __slots__ = ("fn", "ctx", "parents", "params", "seq", "shape", "dtype", "ids", "__dict__", "__weakref__")

    fn: type
    ctx: Any
    parents: tuple[Any, ...]
    params: dict[str, Any]
    seq: int  # creation number: a node's parents always have smaller ones
    shape: tuple[int, ...]
    dtype: Any
    ids: tuple[int, ...]  # id() of each array forward received, then of its output (when it saved any)
    hooks: dict[int, Any] | None = None
    trace: Any = None  # where the op was recorded (anomaly mode)
    inputs: tuple[Any, ...] | None = None  # what forward received, constants too (keep-inputs mode only)

    @property
    def name(self) -> str:
        """The op's readable name, e.g. ``"Matmul"``."""
        return self.fn.__name__

    @property
    def next_functions(self) -> tuple[Any, ...]:
        """The parent edges (Nodes, leaf Tensors or None), named as in PyTorch."""
        return self.parents

    @property
    def saved_sources(self) -> tuple[int | None, ...]:
        """For each saved value, the input ``i`` it is, ``-1`` for the output, or None for a constant.

        Read from the ids the recorder took right after forward: exact, because each saved
        value is alive (the context holds it) and each input slot had its own array object.
        """
        ctx = self.ctx
        if ctx is None or not self.ids:
            return ()
        *inputs, output = self.ids
        sources: list[int | None] = []
        for value in ctx.saved_tensors:
            key = id(value)
            sources.append(inputs.index(key) if key in inputs else -1 if key == output else None)
        return tuple(sources)

    @property
    def saved_values(self) -> tuple[Any, ...] | None:
        """The values the op saved for backward (None once backward has freed them)."""
        return None if self.ctx is None else self.ctx.saved_tensors

    def register_hook(self, hook: Callable[[Any], Any]) -> RemovableHandle:
        """Call ``hook(δ)`` with the gradient of this node's output during backward.

        A hook that returns a value replaces the gradient (same shape and dtype).
        Returns a handle whose ``remove()`` takes the hook out.
        """
        self.hooks, handle = add_hook(self.hooks, hook)
        return handle

    def __repr__(self) -> str:
        return f"<{self.name} backward>"
