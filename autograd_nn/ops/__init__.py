"""The primitive ops, grouped by kind; importing this package registers them all.

Also fills ``_xp.tensor_namespace``: the Tensor versions of the functions derivative
formulas call through ``ctx.xp``, so that the same formulas run under ``create_graph``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import _xp
from .activation import LeakyRelu, LogSoftmax, Relu, Sigmoid, Softmax, Softplus, Tanh
from .arithmetic import Abs, Add, Cast, Clip, Div, Maximum, Minimum, Mul, Neg, Pow, Sub, Where
from .exp_log import Exp, Log, Sqrt
from .linalg import Linear, Matmul
from .loss import BinaryCrossEntropy, MseLoss
from .reduction import Max, Mean, Min, Sum
from .shape import BroadcastTo, Concatenate, GetItem, IndexAdd, Reshape, Transpose

__all__ = [
    "Abs", "Add", "BinaryCrossEntropy", "BroadcastTo", "Cast", "Clip", "Concatenate", "Div",
    "Exp", "GetItem", "IndexAdd", "LeakyRelu", "Linear", "Log", "LogSoftmax", "Matmul", "Max",
    "Maximum", "Mean", "Min", "Minimum", "MseLoss", "Mul", "Neg", "Pow", "Relu", "Reshape", "Sigmoid",
    "Softmax", "Softplus", "Sqrt", "Sub", "Sum", "Tanh", "Transpose", "Where",
]  # fmt: skip


def _sign(x: Any) -> np.ndarray:
    # The derivative of sign is zero almost everywhere: a constant is exact.
    return np.sign(np.asarray(x))


_xp.tensor_namespace.__dict__.update(
    exp=Exp.apply,
    log=Log.apply,
    sign=_sign,
    where=lambda condition, x, y: Where.apply(x, y, condition=np.asarray(condition)),
    maximum=Maximum.apply,
    matmul=Matmul.apply,
    broadcast_to=lambda x, shape: BroadcastTo.apply(x, shape=tuple(shape)),
    sigmoid=Sigmoid.apply,
    index_add=lambda shape, index, values: IndexAdd.apply(values, shape=shape, index=index),
)
