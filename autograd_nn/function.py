"""The building blocks of the graph: grad mode, ``Node``, ``Function`` and the op registry.

An op is a ``Function`` subclass with two static methods side by side::

    @register_op(reference=lambda z: 1 / (1 + np.exp(-z)), domain=(-4, 4))
    class Sigmoid(Function):
        '''a = σ(z);  δz = δa · a · (1 − a)'''

        @staticmethod
        def forward(ctx, z):
            a = ...
            ctx.save_for_backward(a)
            return a

        @staticmethod
        def backward(ctx, grad):
            (a,) = ctx.saved
            return grad * a * (1 - a)

``forward`` sees plain ndarrays (and whatever non-Tensor arguments were passed);
``backward`` returns one gradient per input (a single value for one input, ``None`` for
an input that needs none). Broadcasting and dtype are fixed up by the engine, never by
the op.

**One formula for every order.** ``backward`` is written with operators, array methods
(``.sum``, ``.reshape``, ``.transpose``, ``.swapaxes``) and the functions of ``ctx.xp``.
In a plain backward ``ctx.xp`` is numpy-like and everything is an ndarray, which is fast.
Under ``create_graph=True`` the engine hands the same code Tensors and a Tensor
namespace, so the derivative is itself recorded and can be differentiated again. For
this to work, save only inputs and outputs with ``save_for_backward``; anything else
(masks, shapes, axes) goes on ``ctx`` as a plain attribute and is treated as a constant.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np

from . import _xp
from .opspec import OpSpec, op_spec

F = TypeVar("F", bound=Callable[..., Any])


class _GradMode:
    """Whether operations are recorded. Module-global, like numpy's print options."""

    enabled = True


def is_grad_enabled() -> bool:
    """Return True when operations on tensors that require grad are being recorded."""
    return _GradMode.enabled


class _SetGradMode:
    _mode = True

    def __enter__(self) -> None:
        self._previous = _GradMode.enabled
        _GradMode.enabled = self._mode

    def __exit__(self, *exc: object) -> None:
        _GradMode.enabled = self._previous

    def __call__(self, func: F) -> F:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with type(self)():
                return func(*args, **kwargs)

        return wrapper  # type: ignore[return-value]


class no_grad(_SetGradMode):
    """Context manager and decorator: nothing inside is recorded into a graph.

    >>> import autograd_nn as ag
    >>> x = ag.tensor([1.0, 2.0], requires_grad=True)
    >>> with ag.no_grad():
    ...     y = x * 2
    >>> y.requires_grad, y.grad_fn is None
    (False, True)
    """

    _mode = False


class enable_grad(_SetGradMode):
    """Context manager and decorator: record operations, even inside ``no_grad``."""

    _mode = True


class Node:
    """One recorded operation: the ``ctx`` its forward and backward share, and the
    ``grad_fn`` of the tensor it produced.

    Edges point from an output back to what made its inputs: ``parents[i]`` is the
    ``Node`` that produced input ``i``, the leaf Tensor itself if input ``i`` is a leaf
    that requires grad, or ``None`` if input ``i`` needs no gradient. The node does not
    keep its inputs alive; only what the op saved, and only until backward frees it.

    The engine's fields are slots (a node is made for every recorded op, and a graph
    may hold millions); an op's own attributes (``ctx.axis = ...``) go to a dict that
    exists only for ops that set some.
    """

    __slots__ = ("fn", "parents", "needs_input_grad", "saved", "identities", "shape", "dtype", "seq", "__dict__")

    xp = _xp.numpy_namespace
    hooks: list[Callable[[Any], Any]] | None = None

    fn: type[Function]
    parents: tuple[Any, ...]
    needs_input_grad: tuple[bool, ...]
    saved: tuple[Any, ...] | None  # None once backward has freed it
    identities: tuple[int, ...]  # id() of each input array, then of the output (when saved)
    shape: tuple[int, ...]
    dtype: np.dtype
    seq: int  # creation number: a node's parents always have smaller ones

    def save_for_backward(self, *values: Any) -> None:
        """Keep inputs and/or outputs of ``forward`` for ``backward`` (see module doc)."""
        self.saved = values

    @property
    def saved_sources(self) -> tuple[int | None, ...]:
        """What each saved value is: input ``i``, ``-1`` for the output, None for a constant.

        Resolved by identity from ``identities``: recording keeps ids only, which costs
        far less than matching on every forward. The ids stay unambiguous because every
        saved value was alive, alongside the inputs and the output, during ``forward``.
        """
        saved = self.saved or ()
        if not saved:
            return ()
        *inputs, output = self.identities
        sources: list[int | None] = []
        for value in saved:
            key = id(value)
            if key in inputs:
                sources.append(inputs.index(key))
            else:
                sources.append(-1 if key == output else None)
        return tuple(sources)

    @property
    def name(self) -> str:
        """The op's readable name, e.g. ``"Matmul"``."""
        return self.fn.__name__

    @property
    def next_functions(self) -> tuple[Any, ...]:
        """The parent edges (Nodes, leaf Tensors or None), named as in PyTorch."""
        return self.parents

    def register_hook(self, hook: Callable[[Any], Any]) -> None:
        """Call ``hook(grad)`` with the gradient of this node's output during backward.

        A hook that returns a value replaces the gradient.
        """
        if self.hooks is None:
            self.hooks = []
        self.hooks.append(hook)

    def __repr__(self) -> str:
        return f"<{self.name} backward>"


class _NullContext:
    """The ``ctx`` handed to ``forward`` when nothing is recorded: saving is a no-op."""

    xp = _xp.numpy_namespace
    needs_input_grad: tuple[bool, ...] = ()

    def save_for_backward(self, *values: Any) -> None:
        pass


class Function:
    """Base class for operations: subclass it, write ``forward`` and ``backward``,
    and call ``YourOp.apply(*inputs, **params)``.

    ``apply`` accepts Tensors and anything numpy accepts; only Tensor inputs with
    ``requires_grad=True`` receive gradients. ``params`` are passed to ``forward``
    as keyword arguments and never differentiated.

    >>> import numpy as np, autograd_nn as ag
    >>> class Cube(ag.Function):
    ...     '''a = z³;  δz = δa · 3z²'''
    ...     @staticmethod
    ...     def forward(ctx, z):
    ...         ctx.save_for_backward(z)
    ...         return z ** 3
    ...     @staticmethod
    ...     def backward(ctx, grad):
    ...         (z,) = ctx.saved
    ...         return grad * 3 * z ** 2
    >>> x = ag.tensor([1.0, 2.0], requires_grad=True)
    >>> Cube.apply(x).sum().backward()
    >>> x.grad.numpy()
    array([ 3., 12.])
    """

    @staticmethod
    def forward(ctx: Any, *inputs: Any, **params: Any) -> np.ndarray:
        """Compute the output from the inputs' arrays; keep what ``backward`` needs with ``ctx.save_for_backward``."""
        raise NotImplementedError

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        """Given δ of the output, return δ of each input (one value for a single input, None where none is needed)."""
        raise NotImplementedError

    @classmethod
    def apply(cls, *inputs: Any, **params: Any) -> Any:
        """Run the op on ``inputs``, recording it in the graph if any input requires grad."""
        return _record(cls, inputs, params)


def _record_unavailable(fn: type[Function], inputs: tuple[Any, ...], params: dict[str, Any]) -> Any:
    raise RuntimeError("autograd_nn.tensor was not imported")  # pragma: no cover


# Set by tensor.py, the one module that records nodes; kept here so that Function.apply
# works for user subclasses without function.py importing the Tensor class.
_record: Callable[[type[Function], tuple[Any, ...], dict[str, Any]], Any] = _record_unavailable


# Every enrolled op, keyed by "module.ClassName" (so a user's op may share a built-in's name).
OP_REGISTRY: dict[str, OpSpec] = {}


def register_op(**spec: Any) -> Callable[[type[Function]], type[Function]]:
    """Class decorator: enrol a Function in ``OP_REGISTRY`` with its test contract.

    ``spec`` holds the keywords of ``autograd_nn.opspec.op_spec``: ``reference`` (the
    numpy reference, required), ``shapes``, ``domain``, ``kinks``, ``distinct`` and
    ``params``; they say how to draw valid inputs, which points to avoid, and what the
    forward must compute. ``autograd_nn.testing.check_op`` and the shared property test
    read them. A misspelt or malformed spec fails here, at import, naming the op.
    """

    def enrol(cls: type[Function]) -> type[Function]:
        try:
            description = op_spec(cls, **spec)
        except TypeError as error:  # e.g. a misspelt or missing keyword: say which op
            raise TypeError(f"register_op on {cls.__name__}: {error}") from None
        OP_REGISTRY[f"{cls.__module__}.{cls.__qualname__}"] = description
        return cls

    return enrol
