"""``Linear`` (z = a Wᵀ + b) and ``Identity``."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import functional as F
from .._default_dtype import resolve_float_dtype
from ..tensor import Tensor
from . import init
from ._checks import check_input_dtype
from ._declared import Registered
from .module import Module
from .parameter import Parameter


class Linear(Module):
    """The weighted input of a layer: z = a Wᵀ + b, for a batch of rows a.

    ``weight`` has shape (out_features, in_features) and ``bias`` shape (out_features,),
    as in PyTorch, so state_dicts move between the two libraries unchanged. Inputs may
    have any number of leading (batch) axes; the last must have size ``in_features``.

    **Default initialisation** (PyTorch's): W and b are drawn from U(−1/√in, 1/√in).
    For W this is ``init.kaiming_uniform_(W, a=√5)``. It draws from the ``nn`` default
    generator (seed it with ``nn.init.manual_seed``); call ``reset_parameters(generator)``
    or any ``nn.init`` function to choose otherwise, e.g. the post's
    ``init.lecun_normal_(layer.weight)``.

    ``dtype`` defaults to ``ag.get_default_dtype()``: float64, numpy's default float, unless
    ``ag.set_default_dtype`` changed it (PyTorch's is float32). The input must have the
    parameters' dtype (a float32 layer refuses float64 input, as in PyTorch); change a
    model's dtype with ``model.to(dtype)``, ``model.float()`` or ``model.double()``.

    >>> import numpy as np
    >>> from autograd_nn import nn
    >>> layer = nn.Linear(3, 2)
    >>> layer.weight.shape, layer.bias.shape
    ((2, 3), (2,))
    >>> layer(np.ones((4, 3))).shape
    (4, 2)
    """

    # (read every step: declared, so that self.weight is found without a failed lookup first)
    weight = Registered()
    bias = Registered()

    def __init__(self, in_features: int, out_features: int, bias: bool = True, dtype: Any = None):
        super().__init__()
        for name, value in (("in_features", in_features), ("out_features", out_features)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
                raise ValueError(f"Linear: {name} must be a non-negative int, got {value!r}")
        dtype = resolve_float_dtype(dtype, "Linear")
        self.in_features = int(in_features)
        self.out_features = int(out_features)
        self.weight = Parameter(np.empty((self.out_features, self.in_features), dtype=dtype))
        if bias:
            self.bias = Parameter(np.empty(self.out_features, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self, generator: np.random.Generator | None = None) -> None:
        """Re-draw W and b from U(−1/√in, 1/√in) (PyTorch's default)."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5), generator=generator)
        if self.bias is not None:
            bound = 1 / math.sqrt(self.in_features) if self.in_features > 0 else 0.0
            init.uniform_(self.bias, -bound, bound, generator=generator)

    def forward(self, input: Any) -> Tensor:
        # (arrays read directly, not through Tensor properties: this runs for every layer of every step)
        tensor = isinstance(input, Tensor)
        array = input.data if tensor else np.asanyarray(input)
        parameters = self._parameters
        if type(self) is Linear and "weight" in parameters and "bias" in parameters:
            # What self.weight and self.bias read, read straight from the registry: each
            # attribute costs a Python call of its own (Registered.__get__). Only for this class
            # itself: a subclass may compute its weight (a property, a parametrisation).
            weight, bias = parameters["weight"], parameters["bias"]
        else:
            weight, bias = self.weight, self.bias
        shape = array.shape
        if not shape or shape[-1] != self.in_features:
            raise ValueError(f"{self!r}: input has shape {shape}; its last axis must have size {self.in_features}")
        if array.dtype != weight.data.dtype:
            check_input_dtype(self, array, weight.data.dtype)
        return F.linear(input if tensor else array, weight, bias)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class Identity(Module):
    """a = z: returns its input unchanged (arguments are accepted and ignored, as PyTorch)."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__()

    def forward(self, input: Any) -> Any:
        return input
