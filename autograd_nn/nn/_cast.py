"""Changing a module's dtype in place: what ``Module.to``, ``float``, ``double`` and ``half`` do.

As in PyTorch, the floating-point parameters and buffers change dtype and stay the same
objects: ``param.data`` (and ``param.grad.data``) are replaced by cast copies, so an
optimizer built before the cast still holds these parameters. Integer and boolean
buffers (counters, masks) are left alone. A shared parameter is cast once.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from .._default_dtype import resolve_float_dtype
from .._device import check_device, is_cpu, names_a_dtype
from ..tensor import Tensor

if TYPE_CHECKING:
    from .module import Module


def _dtype_of(value: Any) -> np.dtype:
    if isinstance(value, Tensor) or (hasattr(value, "dtype") and isinstance(value.dtype, np.dtype)):
        dtype = value.dtype
    else:
        dtype = np.dtype(value)
    if dtype.kind != "f":
        raise TypeError(f"nn.Module.to only accepts floating point dtypes, but got desired dtype={dtype}")
    return resolve_float_dtype(dtype, "nn.Module.to")


def parse_to(args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> np.dtype | None:
    """The dtype that ``module.to(*args, **kwargs)`` asks for (``None``: keep it).

    PyTorch's forms: ``to(dtype)``, ``to(tensor)`` (its dtype), ``to(device)``,
    ``to(device, dtype)``, with keywords ``device=``, ``dtype=``, ``non_blocking=``.
    The only device is the CPU.
    """
    unknown = set(kwargs) - {"device", "dtype", "non_blocking", "memory_format"}
    if unknown:
        raise TypeError(f"nn.Module.to: unexpected keyword argument {sorted(unknown)[0]!r}")
    if len(args) > 2:
        raise TypeError(f"nn.Module.to: takes at most 2 positional arguments (device, dtype), got {len(args)}")
    device, dtype = kwargs.get("device"), kwargs.get("dtype")
    for arg in args:
        if arg is None:
            continue
        if is_cpu(arg) or (isinstance(arg, str) and not names_a_dtype(arg)):
            device = arg
        else:
            dtype = arg
    check_device(device, "nn.Module.to")
    return None if dtype is None else _dtype_of(dtype)


def cast_floating(module: Module, dtype: np.dtype) -> None:
    """Cast every floating-point parameter and buffer below ``module`` (and its grad) to ``dtype``."""
    seen: set[int] = set()
    for owner in module.modules():
        for tensor in (*owner._parameters.values(), *owner._buffers.values()):
            if tensor is None or id(tensor) in seen or tensor.dtype.kind != "f":
                continue
            seen.add(id(tensor))
            for target in (tensor, tensor.grad):
                if target is not None and target.dtype != dtype:
                    # The parameter changes in place, as in PyTorch: a graph recorded before the cast
                    # saved the old array, so log a write into it and that graph refuses to backpropagate
                    # (into a parameter that is no longer what it saw).
                    target._increment_version()
                    target.data = target.data.astype(dtype)
