"""A module's state: ``state_dict`` (parameters and persistent buffers by dotted name) and
``load_state_dict`` (copying a state back in, all or nothing), with PyTorch's keys and rules.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from ..tensor import Tensor

if TYPE_CHECKING:
    from .module import Module


class IncompatibleKeys(NamedTuple):
    """What ``load_state_dict(strict=False)`` skipped, as in PyTorch."""

    missing_keys: list[str]
    unexpected_keys: list[str]


def join(prefix: str, name: str) -> str:
    """The dotted name of ``name`` inside the module at ``prefix``."""
    return f"{prefix}.{name}" if prefix else name


def _listing(keys: list[str], limit: int = 5) -> str:
    shown = ", ".join(repr(k) for k in keys[:limit])
    return shown + (f" and {len(keys) - limit} more" if len(keys) > limit else "")


def collect_state(module: Module, prefix: str, keep_vars: bool) -> dict[str, Tensor]:
    """Parameters and persistent buffers by dotted name (``'0.weight'``), in registration order.

    Values share memory with the module (as in PyTorch): ``detach()``-ed Tensors, or
    the Parameters themselves with ``keep_vars=True``. Copy them to keep a snapshot.
    """
    state: dict[str, Tensor] = {}
    for module_prefix, owner in module.named_modules(prefix, remove_duplicate=False):
        for name, param in owner._parameters.items():
            if param is not None:
                state[join(module_prefix, name)] = param if keep_vars else param.detach()
        for name, buffer in owner._buffers.items():
            if buffer is not None and name not in owner._non_persistent_buffers:
                state[join(module_prefix, name)] = buffer if keep_vars else buffer.detach()
    return state


def load_state(module: Module, state_dict: Mapping[str, Any], strict: bool) -> IncompatibleKeys:
    """Copy values into this module's parameters and buffers, in place.

    Values may be Tensors, ndarrays, or anything ``np.asarray`` reads (e.g. CPU torch
    tensors). With ``strict=True`` the keys must match ``state_dict()`` exactly; a shape
    mismatch is always an error. On error nothing is changed, and the message names
    the first missing, unexpected or mis-shaped key.
    """
    if not isinstance(state_dict, Mapping):
        raise TypeError(f"load_state_dict: expected a mapping of names to arrays, got {type(state_dict).__name__}")
    owner = type(module).__name__
    targets = collect_state(module, "", keep_vars=True)
    missing = [key for key in targets if key not in state_dict]
    unexpected = [key for key in state_dict if key not in targets]
    problems = []
    arrays = {}
    for key, target in targets.items():
        if key not in state_dict:
            continue
        value = state_dict[key]
        array = np.asarray(value.data if isinstance(value, Tensor) else value)
        if array.shape != target.shape:
            problems.append(
                f"size mismatch for {key!r}: the checkpoint has shape {array.shape}, "
                f"this model has shape {target.shape}"
            )
        elif not np.can_cast(array.dtype, target.dtype, casting="same_kind"):
            problems.append(f"dtype mismatch for {key!r}: cannot copy {array.dtype} into {target.dtype}")
        arrays[key] = array
    if strict:
        if missing:
            problems.insert(
                0, f"missing key {missing[0]!r} (shape {targets[missing[0]].shape}); missing: {_listing(missing)}"
            )
        if unexpected:
            first = unexpected[0]
            problems.insert(
                len(missing) > 0,
                f"unexpected key {first!r} (shape {np.shape(state_dict[first])}); unexpected: {_listing(unexpected)}",
            )
    if problems:
        raise RuntimeError(
            f"load_state_dict for {owner}: the state does not fit this model "
            "(a checkpoint of another architecture?):\n  " + "\n  ".join(problems)
        )
    for key, array in arrays.items():
        np.copyto(targets[key].data, array, casting="same_kind")
        targets[key]._increment_version()  # a graph recorded before the load must not backpropagate
    return IncompatibleKeys(missing, unexpected)
