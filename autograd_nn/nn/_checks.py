"""Checks a layer makes on its input before computing, shared by every layer.

``check_input_dtype``: a layer's input must have the dtype of its parameters, as in PyTorch
(where a float32 Linear fed float64 raises "mat1 and mat2 must have the same dtype").
Without the check numpy would promote silently: a float32 model fed float64 data would
compute, and return, float64, doubling its memory and time with no sign of why.
"""

from __future__ import annotations

from typing import Any

import numpy as np


class DtypeMismatchError(TypeError, RuntimeError):
    """A layer got input of another dtype than its parameters.

    A TypeError (the input has the wrong type) that is also a RuntimeError, the class
    PyTorch raises for the same mistake, so code written for either catches it.
    """


def check_input_dtype(layer: Any, input: Any, expected: np.dtype) -> None:
    """Raise ``DtypeMismatchError`` unless ``input`` (a Tensor or an ndarray) has dtype ``expected``.

    ``layer`` is the module making the check; its repr opens the message. Call it at the
    top of ``forward`` with the dtype of the layer's weight.
    """
    got = input.dtype
    if got == expected:
        return
    fixes = f"cast the input (x.astype(np.{expected.name}))"
    if got.kind == "f":
        fixes += f" or the layer (layer.to(np.{got.name}))"
    raise DtypeMismatchError(
        f"{layer!r}: input has dtype {got} but the layer's parameters are {expected}; a layer's input must "
        f"have its parameters' dtype (PyTorch: mat1 and mat2 must have the same dtype): {fixes}"
    )
