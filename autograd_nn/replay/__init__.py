"""``autograd_nn.compile``: record a training step, then replay it as flat numpy.

The package's one entry point is ``compile`` (also ``autograd_nn.compile``); how it
works is in ``_compiled`` (the front door), ``_recording`` (what a recorded call
writes down), ``_plan`` (buffers and lifetimes) and ``_codegen`` (the replay's source).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ._compiled import Compiled
from ._errors import CompileError, CompileWarning

__all__ = ["CompileError", "CompileWarning", "Compiled", "compile"]


def compile(fn: Callable[..., Any], *, fullgraph: bool = False) -> Compiled:  # noqa: A001 - PyTorch's name
    """Record ``fn``'s calls and replay them as one flat program of numpy calls.

    ``fn`` is a training step (zero the grads, forward, loss, backward, optimizer update)
    or any function of tensors and arrays. Its first calls run eagerly and are recorded:
    every numpy call, with its shapes and dtypes. Once two recordings agree, call for call
    and constant for constant, and the program made from them reproduces the eager call
    bit for bit, later calls replay the program: the same numpy calls, writing into
    buffers allocated once (``out=``), with no Tensor or graph objects, so no Python
    overhead per op and no allocation per step.

    A replay sees only what went through autograd_nn and numpy. It records again when
    an argument's shape or dtype, the grad mode, a module's attributes (``model.eval()``),
    an optimizer's hyperparameters or state layout, or any Python value among the
    arguments change; it re-reads the learning rate, the optimizer's step count and the
    random generator on every call. It cannot see Python control flow that depends on a
    tensor's value (``if loss > 1``: that becomes a check, and a different value records
    again), Python side effects (printing, appending to a list: they happen when a call is
    recorded only), or numbers computed in Python from tensors (``float(loss)``). What it
    cannot see it never guesses: the call runs eagerly instead, with a ``CompileWarning``
    saying what and where (``fullgraph=True``: a ``CompileError``).

    Returned tensors are new and detached (run backward inside ``fn``); a leaf's ``.grad``
    after a replay lives in a buffer the next replay overwrites. ``compiled.source()``
    shows the program. See ``docs/performance.md``.

    >>> import numpy as np, autograd_nn as ag
    >>> w = ag.tensor([1.0, 2.0], requires_grad=True)
    >>> def step(x):
    ...     loss = ((x * w).sum() - 1.0) ** 2
    ...     loss.backward()
    ...     with ag.no_grad():
    ...         w.data -= 0.125 * w.grad.data
    ...     w.grad = None
    ...     return loss
    >>> fast = ag.compile(step)
    >>> [round(fast(ag.tensor([1.0, 1.0])).item(), 6) for _ in range(4)]
    [4.0, 1.0, 0.25, 0.0625]
    >>> fast.recordings, fast.replays
    (2, 2)
    """
    return Compiled(fn, fullgraph=fullgraph)
