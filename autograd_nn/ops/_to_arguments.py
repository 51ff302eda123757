"""The arguments of ``Tensor.to``: PyTorch's three forms, read into the dtype of a cast.

PyTorch's ``Tensor.to`` has three overloads (its error message lists them):
``to(device=None, dtype=None, non_blocking=False, copy=False)``,
``to(dtype, non_blocking=False, copy=False)`` and ``to(tensor, non_blocking=False, copy=False)``,
each with a keyword-only ``memory_format=``. The first positional argument picks the form,
as in PyTorch; Python's own binding then refuses what that form does not take (``device=``
beside a dtype, a second dtype, an unknown keyword), so nothing is silently dropped.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._device import check_device, names_a_dtype
from .._record import array_of

FORMS = (
    "to(device=None, dtype=None, non_blocking=False, copy=False), to(dtype, non_blocking=False, copy=False) "
    "or to(tensor, non_blocking=False, copy=False), each with memory_format="
)


def to_arguments(x: Any, *args: Any, **kwargs: Any) -> tuple[tuple[Any], dict[str, Any]]:
    """PyTorch's ``x.to(...)`` as a cast of ``x``: to a dtype, to another tensor's dtype, or
    to a device, which can only be the CPU (``'cpu'``, ``'cpu:0'``, ``torch.device('cpu')``).

    A dtype is a numpy dtype, a type (``np.float32``, ``float``) or a numpy dtype name
    (``'float32'``, as ``nn.Module.to`` reads it). ``device=`` is checked like a positional
    device: another device is refused. The keywords PyTorch takes that mean nothing here
    are accepted and change nothing: ``non_blocking`` (a bool: every copy is synchronous on
    the CPU) and ``copy`` (a bool: the result is always a new tensor, a recorded cast, even
    when neither dtype nor device changes; PyTorch returns ``x`` itself then unless
    ``copy=True``). ``memory_format`` may only be ``torch.preserve_format`` (or None, its
    default): numpy keeps the layout, and no other format is produced. Anything else,
    such as an unknown keyword or ``device=`` beside a dtype, is a TypeError, as in PyTorch.
    """
    first = args[0] if args else None
    if "tensor" in kwargs or _is_tensor_like(first):
        form = _to_tensor
    elif args and _is_dtype(first):
        form = _to_dtype
    else:
        form = _to_device
    try:
        dtype = form(*args, **kwargs)
    except TypeError as error:
        message = str(error).split("() ", 1)[-1]  # drop the private form's name
        raise TypeError(f"to: {message}; PyTorch's forms are {FORMS}") from None
    if dtype is None:
        return (x,), {"dtype": np.asanyarray(array_of(x)).dtype}
    return (x,), {"dtype": _as_dtype(dtype)}


def _to_device(
    device: Any = None, dtype: Any = None, non_blocking: bool = False, copy: bool = False, *, memory_format: Any = None
) -> Any:
    check_device(device, "to")
    _check_unused(non_blocking, copy, memory_format)
    return dtype


def _to_dtype(dtype: Any, non_blocking: bool = False, copy: bool = False, *, memory_format: Any = None) -> Any:
    _check_unused(non_blocking, copy, memory_format)
    return dtype


def _to_tensor(tensor: Any, non_blocking: bool = False, copy: bool = False, *, memory_format: Any = None) -> Any:
    _check_unused(non_blocking, copy, memory_format)
    return tensor.dtype


def _check_unused(non_blocking: Any, copy: Any, memory_format: Any) -> None:
    """The arguments that change nothing here are still what PyTorch would accept."""
    for name, value in (("non_blocking", non_blocking), ("copy", copy)):
        if not isinstance(value, (bool, np.bool_)):
            raise TypeError(f"to() argument {name!r} must be a bool, got {value!r}")
    if memory_format is not None and str(memory_format) != "torch.preserve_format":
        raise ValueError(
            f"to: memory_format={memory_format!r} is not supported: numpy keeps the tensor's layout "
            "(memory_format=torch.preserve_format)"
        )


def _is_tensor_like(value: Any) -> bool:
    """A tensor or array whose dtype to take: it has a dtype and is not itself a dtype or a type."""
    return not isinstance(value, (type, str, np.dtype)) and hasattr(value, "dtype")


def _is_dtype(value: Any) -> bool:
    if isinstance(value, str):  # 'float32' names a dtype; 'cpu' and 'cuda' do not
        return names_a_dtype(value)
    return isinstance(value, (type, np.dtype))


def _as_dtype(value: Any) -> np.dtype:
    try:
        return np.dtype(value)
    except TypeError:
        raise TypeError(
            f"to: dtype must be a numpy dtype, a type such as np.float32, or a dtype's name; got {value!r}"
        ) from None
