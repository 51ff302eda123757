"""Gradient clipping and parameter flattening, with ``torch.nn.utils``' names, signatures and rules.

``clip_grad_norm_`` scales every gradient by min(1, max_norm / (‖g‖ + 10⁻⁶)), where ‖g‖ is
the norm of all gradients taken together; ``clip_grad_value_`` clamps each element into
[−clip_value, clip_value]. Both write into ``param.grad`` in place (and log the write, so
a graph that saved a gradient, under ``create_graph=True``, cannot use the old values).
Call them between ``loss.backward()`` and ``optimizer.step()``.

``foreach`` is accepted for PyTorch compatibility and has no effect (numpy has one path).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from ..tensor import Tensor

__all__ = [
    "clip_grad_norm_", "clip_grad_value_", "clip_grads_with_norm_", "get_total_norm", "parameters_to_vector",
    "vector_to_parameters",
]  # fmt: skip


def _tensors(values: Tensor | Iterable[Tensor], owner: str) -> list[Tensor]:
    values = [values] if isinstance(values, Tensor) else list(values)
    for i, value in enumerate(values):
        if not isinstance(value, Tensor):
            raise TypeError(f"{owner}: item {i} is a {type(value).__name__}, not a Tensor or Parameter")
    return values


def _norm_order(norm_type: Any, owner: str) -> float:
    try:
        return float(norm_type)  # 'inf' too, as PyTorch
    except (TypeError, ValueError) as error:
        raise ValueError(f"{owner}: norm_type must be a number or 'inf', got {norm_type!r}") from error


def _own_array(tensor: Tensor) -> np.ndarray:
    """``tensor``'s array, ready to be written in place (a read-only one is replaced by a copy)."""
    if not tensor.data.flags.writeable:
        tensor.data = tensor.data.copy()
    return tensor.data


def get_total_norm(
    tensors: Tensor | Iterable[Tensor],
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
    foreach: bool | None = None,
) -> Tensor:
    """The ``norm_type``-norm of ``tensors`` taken as one vector: the norm of their norms.

    ``norm_type`` may be ``inf`` (the largest absolute value). Returns a 0-d Tensor (0.0 for
    no tensors). With ``error_if_nonfinite`` a NaN or infinite norm raises RuntimeError.
    """
    order = _norm_order(norm_type, "get_total_norm")
    arrays = [t.data for t in _tensors(tensors, "get_total_norm")]
    if not arrays:
        return Tensor(np.array(0.0))
    dtype = np.result_type(*arrays)
    norms = np.stack([np.linalg.norm(a.ravel(), order) for a in arrays]).astype(dtype, copy=False)
    total = np.asanyarray(np.linalg.norm(norms, order), dtype=dtype)
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(
            f"The total norm of order {order} for gradients from `parameters` is non-finite ({total}), so it cannot "
            "be clipped. To disable this error and scale the gradients by the non-finite norm anyway, set "
            "`error_if_nonfinite=False`"
        )
    return Tensor(total)


def clip_grads_with_norm_(
    parameters: Tensor | Iterable[Tensor],
    max_norm: float,
    total_norm: Tensor | float,
    foreach: bool | None = None,
) -> None:
    """Scale the gradients of ``parameters`` by min(1, max_norm / (total_norm + 10⁻⁶)), in place."""
    grads = [p.grad for p in _tensors(parameters, "clip_grads_with_norm_") if p.grad is not None]
    if not grads:
        return
    norm = np.asanyarray(total_norm.data if isinstance(total_norm, Tensor) else total_norm)
    coefficient = np.minimum(float(max_norm) / (norm + 1e-6), 1.0)
    for grad in grads:
        array = _own_array(grad)
        with np.errstate(invalid="ignore"):  # inf · 0 with a non-finite norm: NaN, asked for (as in PyTorch)
            np.multiply(array, coefficient.astype(grad.dtype), out=array)
        grad._increment_version()


def clip_grad_norm_(
    parameters: Tensor | Iterable[Tensor],
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
    foreach: bool | None = None,
) -> Tensor:
    """Rescale the gradients so that their norm, taken together, is at most ``max_norm``.

    Returns the norm of the gradients before clipping (a 0-d Tensor), as PyTorch.

    >>> import numpy as np, autograd_nn as ag
    >>> from autograd_nn import nn
    >>> w = nn.Parameter(np.zeros(2))
    >>> w.grad = ag.tensor([3.0, 4.0])
    >>> nn.utils.clip_grad_norm_([w], max_norm=1.0)
    Tensor(5.)
    >>> np.round(w.grad.numpy(), 6)
    array([0.6, 0.8])
    """
    params = _tensors(parameters, "clip_grad_norm_")
    total = get_total_norm([p.grad for p in params if p.grad is not None], norm_type, error_if_nonfinite)
    clip_grads_with_norm_(params, max_norm, total)
    return total


def clip_grad_value_(
    parameters: Tensor | Iterable[Tensor], clip_value: float, foreach: bool | None = None
) -> None:
    """Clamp every gradient element into [−clip_value, clip_value], in place."""
    bound = float(clip_value)
    if math.isnan(bound):
        raise ValueError("clip_grad_value_: clip_value is NaN")
    for param in _tensors(parameters, "clip_grad_value_"):
        if param.grad is not None:
            array = _own_array(param.grad)
            np.clip(array, -bound, bound, out=array)
            param.grad._increment_version()


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """All ``parameters`` flattened and joined into one 1-d Tensor (a copy, not recorded)."""
    arrays = [p.data.ravel() for p in _tensors(parameters, "parameters_to_vector")]
    return Tensor(np.concatenate(arrays) if arrays else np.zeros(0))


def vector_to_parameters(vec: Tensor, parameters: Iterable[Tensor]) -> None:
    """Copy the consecutive pieces of the 1-d ``vec`` into ``parameters``, in place (the inverse of
    ``parameters_to_vector``)."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"vector_to_parameters: expected vec of type Tensor, but got: {type(vec).__name__}")
    params = _tensors(parameters, "vector_to_parameters")
    needed = sum(p.size for p in params)
    if vec.ndim != 1 or vec.size != needed:
        raise ValueError(
            f"vector_to_parameters: vec has shape {vec.shape} but the parameters hold {needed} values; "
            f"expected shape ({needed},)"
        )
    start = 0
    for param in params:
        param.data[...] = vec.data[start : start + param.size].reshape(param.shape)
        param._increment_version()
        start += param.size
