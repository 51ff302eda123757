"""A state's structure as JSON: ``encode`` splits a nested state into a JSON-able tree
and named arrays, ``decode`` rebuilds it. Both walk with an explicit stack (never
recursion), and ``decode`` trusts nothing in the tree it is given."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from ..tensor import Tensor
from ._common import DTYPE_NAMES, MAX_NESTING, CheckpointError


def _is_array(value: Any) -> bool:
    return isinstance(value, (np.ndarray, Tensor)) or (
        hasattr(value, "__array__") and not isinstance(value, (np.generic, str, bytes))
    )


def _array(value: Any, where: str) -> np.ndarray:
    array = np.asarray(value.data if isinstance(value, Tensor) else value)
    if array.dtype.newbyteorder("=") not in DTYPE_NAMES:
        raise TypeError(
            f"save: {where!r} has dtype {array.dtype}, which a checkpoint cannot hold "
            f"(supported: {', '.join(str(d) for d in DTYPE_NAMES)})"
        )
    return array


def encode(state: Mapping[str, Any]) -> tuple[Any, dict[str, np.ndarray]]:
    """Split ``state`` into a JSON-able tree and named arrays; the tree refers to each
    array by name as ``{"tensor": name}``."""
    tensors: dict[str, np.ndarray] = {}
    holder: list[Any] = [None]
    stack: list[tuple[Any, tuple[Any, ...], list[Any], int]] = [(state, (), holder, 0)]
    while stack:
        value, path, parent, slot = stack.pop()
        where = ".".join(str(p) for p in path)
        node: Any
        if len(path) > MAX_NESTING:
            raise ValueError(
                f"save: the state nests more than {MAX_NESTING} levels deep, or contains itself (at {where[:200]!r})"
            )
        if _is_array(value):
            if where in tensors:
                raise ValueError(f"save: two entries would both be stored under the name {where!r}; rename one")
            tensors[where] = _array(value, where)
            node = {"tensor": where}
        elif isinstance(value, (Mapping, list, tuple)):
            if isinstance(value, Mapping):
                for key in value:
                    if isinstance(key, bool) or not isinstance(key, (str, int)):
                        raise TypeError(f"save: dict keys must be str or int, got {key!r} in {where or 'the state'}")
                node = {"dict": [[key, None] for key in value]}
                children = [(v, path + (k,), node["dict"][i], 1) for i, (k, v) in enumerate(value.items())]
            else:
                kind = "tuple" if isinstance(value, tuple) else "list"
                node = {kind: [None] * len(value)}
                children = [(v, path + (i,), node[kind], i) for i, v in enumerate(value)]
            stack.extend(reversed(children))
        elif value is None or isinstance(value, (bool, int, float, str, np.generic)):
            value = value.item() if isinstance(value, np.generic) else value
            if isinstance(value, float) and not math.isfinite(value):
                node = {"float": repr(value)}  # JSON has no inf/nan
            else:
                node = {"value": value}
        else:
            raise TypeError(
                f"save: cannot store a {type(value).__name__} at {where or 'the top level'!r}; a checkpoint holds "
                "Tensors, ndarrays, numbers, strings, None and dicts/lists/tuples of them (never pickled objects)"
            )
        parent[slot] = node
    return holder[0], tensors


_SCALARS = (type(None), bool, int, float, str)


def decode(tree: Any, tensors: dict[str, np.ndarray], source: str) -> Any:
    """Rebuild the structure ``encode`` described, with Tensors for the arrays."""
    used: set[str] = set()
    holder: list[Any] = [None]
    tuples: list[tuple[Any, Any, list[Any]]] = []
    stack: list[tuple[Any, Any, Any]] = [(tree, holder, 0)]

    def corrupt(node: Any, why: str) -> CheckpointError:
        return CheckpointError(f"load: {source}: corrupt structure entry {str(node)[:200]} ({why})")

    while stack:
        node, parent, slot = stack.pop()
        if not isinstance(node, dict) or len(node) != 1:
            raise corrupt(node, "expected an object with one entry")
        ((kind, body),) = node.items()
        out: Any
        if kind == "tensor":
            if not isinstance(body, str) or body not in tensors or body in used:
                raise corrupt(node, "it names a tensor that is missing or already used")
            used.add(body)
            out = Tensor(tensors[body])
        elif kind == "dict":
            if not isinstance(body, list) or not all(isinstance(p, list) and len(p) == 2 for p in body):
                raise corrupt(node, "a dict must be a list of [key, value] pairs")
            keys = [key for key, _ in body]
            if any(isinstance(k, bool) or not isinstance(k, (str, int)) for k in keys) or len(set(keys)) != len(keys):
                raise corrupt(node, "dict keys must be distinct strings or integers")
            out = dict.fromkeys(keys)
            stack.extend((child, out, key) for key, child in body)
        elif kind in ("list", "tuple") and isinstance(body, list):
            out = [None] * len(body)
            stack.extend((child, out, i) for i, child in enumerate(body))
            if kind == "tuple":
                tuples.append((parent, slot, out))
        elif kind == "value" and isinstance(body, _SCALARS):
            out = body
        elif kind == "float" and body in ("inf", "-inf", "nan"):
            out = float(body)
        else:
            raise corrupt(
                node, f"unknown kind {kind!r}" if kind not in ("list", "tuple", "value", "float") else "bad body"
            )
        parent[slot] = out
    for parent, slot, items in reversed(tuples):  # innermost first
        parent[slot] = tuple(items)
    if used != set(tensors):
        extra = sorted(set(tensors) - used)[0]
        raise CheckpointError(f"load: {source}: tensor {extra!r} is not part of the saved structure (corrupt file?)")
    return holder[0]
