"""``Function``: an op written as a forward and a derivative, side by side.

An op is a ``Function`` subclass with two static methods::

    @register_op(reference=lambda z: 1 / (1 + np.exp(-z)), domain=(-4, 4), methods="sigmoid")
    class Sigmoid(Function):
        '''a = σ(z);  δz = δa · a · (1 − a)'''

        @staticmethod
        def forward(ctx, z):
            a = ...
            ctx.save_for_backward(a)
            return a

        @staticmethod
        def backward(ctx, grad):
            (a,) = ctx.saved_tensors
            return grad * a * (1 - a)

``forward`` sees plain ndarrays (and whatever non-Tensor arguments were passed);
``backward`` returns one gradient per input (a single value for one input, a tuple for
several, ``None`` for an input that needs none). Broadcasting and dtype are fixed up by
the engine, never by the op. ``ctx`` is the op's own ``Context``: set any attribute on it.

**One formula for every order.** ``backward`` is written with operators, array methods
(``.sum``, ``.reshape``, ``.transpose``, ``.swapaxes``) and the functions of ``ctx.xp``.
In a plain backward ``ctx.xp`` is numpy-like and everything is an ndarray, which is fast.
Under ``create_graph=True`` the engine hands the same code Tensors and a Tensor
namespace, so the derivative is itself recorded and can be differentiated again. For
this to work, save inputs and outputs with ``save_for_backward`` (the engine records
which is which); anything else (masks, shapes, axes) goes on ``ctx`` as a plain
attribute and is treated as a constant.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._record import recorder


class Function:
    """Base class for operations: subclass it, write ``forward`` and ``backward``,
    and call ``YourOp.apply(*inputs, **params)``.

    ``apply`` accepts Tensors and anything numpy accepts; only Tensor inputs with
    ``requires_grad=True`` receive gradients. ``params`` are passed to ``forward``
    as keyword arguments and never differentiated. A forward that returns integers or
    booleans gives an output that does not require grad. With no Tensor among the
    inputs nothing is recorded and ``apply`` returns forward's array, as numpy would.

    >>> import numpy as np, autograd_nn as ag
    >>> class Cube(ag.Function):
    ...     '''a = z³;  δz = δa · 3z²'''
    ...     @staticmethod
    ...     def forward(ctx, z):
    ...         ctx.save_for_backward(z)
    ...         return z ** 3
    ...     @staticmethod
    ...     def backward(ctx, grad):
    ...         (z,) = ctx.saved_tensors
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

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._recorder = recorder(cls)  # each op class gets the recorder apply runs it through

    @classmethod
    def apply(cls, *inputs: Any, **params: Any) -> Any:
        """Run the op on ``inputs``, recording it in the graph if any input requires grad."""
        return cls._recorder(inputs, params)
