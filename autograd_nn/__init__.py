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

from . import allocator, collector, functional, nn, optim  # allocator, collector: act on import
from ._default_dtype import get_default_dtype, set_default_dtype
from .anomaly import AnomalyError
from .autograd import grad, increment_version
from .checkpoint import load, save
from .creation import arange, as_tensor, empty, eye, full, linspace, one_hot, ones, tensor, unravel_index, zeros
from .engine import GraphFreedError
from .function import Function
from .functional import put_along_axis
from .grad_mode import (
    detect_anomaly,
    enable_grad,
    is_anomaly_enabled,
    is_grad_enabled,
    no_grad,
    set_detect_anomaly,
    set_grad_enabled,
)
from .graph import Context, Node, RemovableHandle
from .interop import from_torch, to_torch
from .random import manual_seed, normal, rand, randint, randn, randperm, uniform
from .registry import register_op
from .replay import CompileError, CompileWarning, compile
from .tensor import Tensor

__version__ = "0.1.0"

# The array functions (exp, sigmoid, sum, where, concatenate, …), generated from the op registry.
globals().update(functional.TOP_LEVEL)

_LAZY_SUBPACKAGES = ("data", "onnx", "testing", "viz")


def __getattr__(name: str) -> object:
    # data, onnx, testing and viz load on first use, so `import autograd_nn` stays quick.
    if name in _LAZY_SUBPACKAGES:
        import importlib

        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'autograd_nn' has no attribute {name!r}")


__all__ = [
    "AnomalyError", "CompileError", "CompileWarning", "Context", "allocator", "collector", "Function", "GraphFreedError", "Node",
    "RemovableHandle", "Tensor", "as_tensor", "compile", "detect_anomaly", "enable_grad", "from_torch", "functional",
    "get_default_dtype", "grad", "increment_version", "is_anomaly_enabled", "is_grad_enabled", "load", "nn",
    "no_grad", "optim", "register_op", "save", "set_default_dtype", "set_detect_anomaly", "set_grad_enabled",
    "tensor", "to_torch",
    # making tensors (creation.py, random.py)
    "arange", "empty", "eye", "full", "linspace", "manual_seed", "normal", "one_hot", "ones", "rand", "randint",
    "randn", "randperm", "uniform", "unravel_index", "zeros",
    "put_along_axis",  # numpy's in-place write (functional.py)
]  # fmt: skip
__all__ += sorted(functional.TOP_LEVEL)  # the generated array functions
