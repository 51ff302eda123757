"""Value probes: the example inputs with other values (never other shapes), to find the
constants a model computed from its input's values outside the recorded graph.

Besides its ops, a recorded graph holds constants: a Where's condition, an index, a
parameter such as ``k``, a tensor made inside forward. One computed from the input's
values (``z.data > 0``, an argsort of ``.data``, ``.item()``) is right for the example
only; an ONNX graph would repeat it for every input. The graph cannot tell such a
constant from one built from shapes alone (a causal mask), and one other input cannot
either: rolling the rows of ``[[1, 2], [1, 2]]``, or of a single row, changes nothing.
So export records the model once more on each probe below, and writes a constant only if
every probe gave the same one (``equal``). Each probe moves what a different kind of rule
reads: the sign (negated), the size against a threshold (zeros, scaled by 10, and random
sizes over four decades), the order (random).

Integer and boolean inputs (ids, labels, masks) keep their domain: zeros (ones, for an
example of zeros), or their own elements shuffled, so an id stays a valid index. A probe
that changes no input (an example of zeros, negated) proves nothing and is not recorded.
A model may reject a probe (probabilities must lie in [0, 1]): its constants matter for
the inputs it accepts only, so a rejected probe is left out and ``WITHIN`` (random values
within the range of the example's own) is recorded as well; a model that rejects every
probe that changes its inputs is not exported.

This finds a constant only if some probe moves it: a threshold no probe crosses (far
beyond every probed value) goes unseen. The guarantee belongs to the ops, which compute
what they need with recorded ops; the probes stop what escapes them, and autograd_nn's own
composites that read ``.data`` (prelu, hardtanh, topk, ...) are refused on the examples
``tests/interop`` gives them, degenerate ones included.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..tensor import Tensor

#: The probes, in the order they are recorded: (how the error names it, what it does).
PROBES: tuple[tuple[str, str], ...] = (
    ("negated (integer and boolean ones shuffled)", "negated"),
    ("set to zero (integer and boolean ones that are all zero: set to one)", "zeros"),
    ("scaled by 10 (integer and boolean ones shuffled)", "scaled"),
    ("replaced by random values (seeded; integer and boolean ones shuffled)", "random"),
)
#: Recorded when the model rejects a probe: values it is more likely to accept.
WITHIN = (
    "replaced by random values within the range of their own (seeded; integer and boolean ones shuffled)",
    "within",
)
_SEED = 20240617  # the random probes are the same in every export: an export is reproducible


def probe_inputs(values: Sequence[Any], probes: Sequence[tuple[str, str]] = PROBES) -> list[tuple[str, list[Any]]]:
    """For each of ``probes``: its name and the example ``values`` changed by it (same shapes and dtypes)."""
    rng = np.random.default_rng(_SEED)
    return [(name, [_probed(value, kind, rng) for value in values]) for name, kind in probes]


def _probed(value: Any, kind: str, rng: np.random.Generator) -> Any:
    data = value.data if isinstance(value, Tensor) else value
    if isinstance(data, np.generic):
        data = np.asarray(data)
    if not isinstance(data, np.ndarray) or data.size == 0 or data.dtype.kind not in "fciub":
        return value  # a Python number, a string, an empty array: nothing to change
    if data.dtype.kind in "fc":
        if kind == "negated":
            return -data
        if kind == "scaled":
            return data * 10
        if kind == "random":
            finite = np.abs(data[np.isfinite(data)])
            scale = max(float(finite.max()) if finite.size else 0.0, 1.0)
            magnitude = scale * 10.0 ** rng.uniform(-2.0, 2.0, data.shape)
            return np.where(rng.random(data.shape) < 0.5, -magnitude, magnitude).astype(data.dtype)
        if kind == "within":
            finite = data[np.isfinite(data)].real
            low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 0.0)
            if low == high:  # one value: between it and its half (the same sign, a smaller size)
                low, high = sorted((low / 2, high))
            return rng.uniform(low, high, data.shape).astype(data.dtype)
        return np.zeros_like(data)
    # integers and booleans: zero is a valid id, label and mask; otherwise the example's own values
    flat = data.reshape(-1)
    if kind == "zeros":  # (ones, for an example of zeros: a probe that changes nothing proves nothing)
        new = np.ones_like(flat) if not flat.any() else np.zeros_like(flat)
    else:
        new = rng.permutation(flat)
        if np.array_equal(new, flat):  # the shuffle left it as it was: rotate instead
            new = np.roll(flat, 1)
    new = new.reshape(data.shape)
    return Tensor(new) if isinstance(value, Tensor) else new


def changes(values: Sequence[Any], example: Sequence[Any]) -> bool:
    """True if a probe's ``values`` differ from the ``example`` in some input (else it proves nothing)."""
    return any(not _equal_leaf(_array(v), _array(e)) for v, e in zip(values, example))


def _array(value: Any) -> Any:
    data = value.data if isinstance(value, Tensor) else value
    return np.asarray(data) if isinstance(data, np.generic) else data


def equal(a: Any, b: Any, leaves: Mapping[int, int]) -> bool:
    """``a`` (of the first recording) and ``b`` (of a probe's) are the same constant: equal
    values (arrays by shape, dtype and elements, nan equal to nan), nested in tuples, lists,
    dicts and slices alike, or the same input of the model (``leaves``: id of an input's
    array or tensor, in either recording -> id of the first recording's)."""
    stack = [(a, b)]
    while stack:
        x, y = stack.pop()
        tx, ty = leaves.get(id(x)), leaves.get(id(y))
        if tx is not None or ty is not None:
            if tx != ty:
                return False
        elif isinstance(x, (tuple, list)) or isinstance(y, (tuple, list)):
            if type(x) is not type(y) or len(x) != len(y):
                return False
            stack.extend(zip(x, y))
        elif isinstance(x, dict) or isinstance(y, dict):
            if type(x) is not type(y) or x.keys() != y.keys():
                return False
            stack.extend((x[k], y[k]) for k in x)
        elif isinstance(x, slice) or isinstance(y, slice):
            if type(x) is not type(y):
                return False
            stack.extend([(x.start, y.start), (x.stop, y.stop), (x.step, y.step)])
        elif not _equal_leaf(x, y):
            return False
    return True


def _equal_leaf(x: Any, y: Any) -> bool:
    if x is y:
        return True
    if isinstance(x, Tensor) and isinstance(y, Tensor):
        x, y = x.data, y.data
    if type(x) is not type(y):
        return False
    if isinstance(x, (np.ndarray, np.generic)):
        if x.shape != y.shape or x.dtype != y.dtype:
            return False
        return bool(np.array_equal(x, y, equal_nan=x.dtype.kind in "fc"))
    if isinstance(x, float) and math.isnan(x):
        return math.isnan(y)
    try:
        return bool(x == y)
    except (TypeError, ValueError):  # an object that does not compare: only itself is the same
        return False
