"""``Parameter``: a Tensor that a Module registers as learnable."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._default_dtype import get_default_dtype
from ..tensor import Tensor


class Parameter(Tensor):
    """A leaf Tensor with ``requires_grad=True`` that a ``Module`` picks up as a parameter.

    Assigning a Parameter to a module attribute registers it (``self.W = Parameter(...)``);
    a plain Tensor assigned the same way is just an attribute. Like ``Tensor(data)`` it
    wraps an ndarray without copying; a Tensor argument is detached from its graph.

    >>> import numpy as np
    >>> from autograd_nn import nn
    >>> W = nn.Parameter(np.zeros((2, 3)))
    >>> W.requires_grad, W.is_leaf, W.shape
    (True, True, (2, 3))
    """

    __slots__ = ()

    def __init__(self, data: Any = None, requires_grad: bool = True):
        if data is None:
            data = np.empty(0, dtype=get_default_dtype())
        super().__init__(data, requires_grad=requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()
