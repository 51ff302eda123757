"""autograd_nn: reverse-mode automatic differentiation on numpy, for learning and
building neural networks.

>>> import autograd_nn as ag
>>> x = ag.tensor([1.0, 2.0, 3.0], requires_grad=True)
>>> loss = (x * x).sum()
>>> loss.backward()
>>> x.grad
Tensor([2., 4., 6.])
"""

from __future__ import annotations

from . import functional, nn, optim
from .checkpoint import load, save
from .engine import GraphFreedError
from .function import Function, Node, enable_grad, is_grad_enabled, no_grad, register_op
from .functional import (
    abs,
    broadcast_to,
    clip,
    exp,
    expand_dims,
    flatten,
    leaky_relu,
    log,
    log_softmax,
    matmul,
    max,
    mean,
    min,
    relu,
    reshape,
    sigmoid,
    softmax,
    softplus,
    sqrt,
    squeeze,
    std,
    sum,
    tanh,
    transpose,
    var,
)  # fmt: skip
from .tensor import Tensor, as_tensor, concatenate, grad, maximum, minimum, stack, tensor, where

__version__ = "0.1.0"

_LAZY_SUBPACKAGES = ("data", "testing", "viz")


def __getattr__(name: str) -> object:
    # data, testing and viz load on first use, so `import autograd_nn` stays quick.
    if name in _LAZY_SUBPACKAGES:
        import importlib

        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'autograd_nn' has no attribute {name!r}")


__all__ = [
    "Function", "GraphFreedError", "Node", "Tensor", "abs", "as_tensor", "broadcast_to", "clip",
    "concatenate", "enable_grad", "exp", "expand_dims", "flatten", "functional", "grad",
    "is_grad_enabled", "leaky_relu", "load", "log", "log_softmax", "matmul", "max", "maximum",
    "mean", "min", "minimum", "nn", "no_grad", "optim", "register_op", "relu", "reshape", "save",
    "sigmoid", "softmax", "softplus", "sqrt", "squeeze", "stack", "std", "sum", "tanh", "tensor",
    "transpose", "var", "where",
]  # fmt: skip
