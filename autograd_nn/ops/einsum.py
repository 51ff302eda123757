"""Tensor contractions: ``einsum`` (a primitive, any number of operands, numpy's subscripts
including ``...``), and the composites ``tensordot`` (through one matmul, which reaches
BLAS), ``outer`` and ``kron``.

The derivative of einsum for each operand is another einsum: the output's δ contracted
with the other operands, written into the operand's subscripts. Two kinds of constant
operands make that always expressible: an identity matrix ``eye(n)`` for a label the
operand repeats (its diagonal, ``'ii'``), and ``ones(n)`` for a label that only it has
(summed away inside it, ``'ij->i'``).
"""

from __future__ import annotations

import string
from typing import Any

import numpy as np

from ..function import Function
from ..registry import register_composite, register_op

_LETTERS = string.ascii_letters


def _explicit(subscripts: str, shapes: list[tuple[int, ...]]) -> tuple[list[str], str]:
    """Each operand's labels and the output's, with ``...`` spelt out and ``->`` made explicit."""
    if not isinstance(subscripts, str):
        raise TypeError(f"einsum: subscripts must be a str such as 'ij,jk->ik', got {type(subscripts).__name__}")
    text = subscripts.replace(" ", "")
    given, _, output = text.partition("->")
    parts = given.split(",")
    if len(parts) != len(shapes):
        raise ValueError(f"einsum: subscripts {subscripts!r} name {len(parts)} operand(s), got {len(shapes)}")
    spare = [c for c in _LETTERS if c not in text]
    widest = max([len(s) - len(p.replace("...", "")) for p, s in zip(parts, shapes) if "..." in p] + [0])
    dots = "".join(spare[:widest])
    labels = []
    for part, shape in zip(parts, shapes):
        if "..." in part:
            extra = len(shape) - len(part.replace("...", ""))
            part = part.replace("...", dots[widest - extra :] if extra else "")
        if len(part) != len(shape) or not all(c in _LETTERS for c in part):
            raise ValueError(f"einsum: subscripts {subscripts!r} do not fit an operand of shape {shape}")
        labels.append(part)
    if "->" in text:
        output = output.replace("...", dots)
    else:  # numpy's implicit output: the broadcast axes, then the labels used once, sorted
        counts = "".join(labels)
        output = dots + "".join(sorted(c for c in set(counts) if counts.count(c) == 1 and c not in dots))
    return labels, output


def _sizes(labels: list[str], shapes: list[tuple[int, ...]]) -> dict[str, int]:
    sizes: dict[str, int] = {}
    for part, shape in zip(labels, shapes):
        for label, n in zip(part, shape):
            sizes[label] = max(sizes.get(label, 1), n)  # size-1 axes broadcast
    return sizes


def _einsum_args(subscripts: str, *operands: Any) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """numpy's ``einsum(subscripts, *operands)``."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    return operands, {"subscripts": subscripts}


def _einsum_shapes(draw: Any) -> tuple[list[tuple[int, ...]], dict[str, Any]]:
    from hypothesis import strategies as st  # a test-time dependency, imported only here

    sizes = {c: draw(st.integers(1, 3)) for c in "abcd"}
    parts = draw(st.lists(st.lists(st.sampled_from("abcd"), max_size=3).map("".join), min_size=1, max_size=3))
    used = sorted(set("".join(parts)))
    output = "".join(draw(st.permutations(used))[: draw(st.integers(0, len(used)))])
    subscripts = ",".join(parts) + ("->" + output if draw(st.booleans()) or not parts else "")
    return [tuple(sizes[c] for c in p) for p in parts], {"subscripts": subscripts}


@register_op(
    reference=lambda *xs, subscripts: np.einsum(subscripts, *xs), shapes=_einsum_shapes, functions="einsum",
    parse=_einsum_args, derivative=np.einsum,
    arguments=lambda inputs, params: ((params["subscripts"], *inputs), {}),
)  # fmt: skip
class Einsum(Function):
    """z = einsum(s, x₁, …, xₙ);  δxₖ = einsum of δz with the other operands into xₖ's subscripts"""

    @staticmethod
    def forward(ctx: Any, *operands: Any, subscripts: str) -> Any:
        shapes = [np.shape(x) for x in operands]
        labels, output = _explicit(subscripts, shapes)
        ctx.labels, ctx.output, ctx.sizes = labels, output, _sizes(labels, shapes)
        ctx.save_for_backward(*operands)
        try:
            return np.asanyarray(np.einsum(f"{','.join(labels)}->{output}", *operands, optimize=len(operands) > 2))
        except ValueError as error:
            raise ValueError(f"einsum: {subscripts!r} with operands of shapes {shapes}: {error}") from None

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        operands = ctx.saved_tensors
        return tuple(
            _operand_grad(ctx, grad, operands, k) if needed else None for k, needed in enumerate(ctx.needs_input_grad)
        )


def _operand_grad(ctx: Any, grad: Any, operands: tuple[Any, ...], k: int) -> Any:
    sizes, target = ctx.sizes, ctx.labels[k]
    terms = [ctx.output] + [p for i, p in enumerate(ctx.labels) if i != k]
    values = [grad] + [x for i, x in enumerate(operands) if i != k]
    spare = iter(c for c in _LETTERS if c not in "".join(ctx.labels) + ctx.output)
    fresh = ""
    for label in target:
        if label in fresh:  # a repeated label: its own letter, tied to the first by eye(n)
            twin = next(spare)
            terms.append(label + twin)
            values.append(np.eye(sizes[label]))
            label = twin
        fresh += label
    present = set("".join(terms))
    for label in dict.fromkeys(fresh):
        if label not in present:  # summed inside this operand only: every element gets δ
            terms.append(label)
            values.append(np.ones(sizes[label]))
    return ctx.xp.einsum(f"{','.join(terms)}->{fresh}", *values)


def _tensordot_shapes(draw: Any) -> tuple[list[tuple[int, ...]], dict[str, Any]]:
    from hypothesis import strategies as st  # a test-time dependency, imported only here

    shared = tuple(draw(st.lists(st.integers(1, 3), max_size=2)))
    a = tuple(draw(st.lists(st.integers(1, 3), max_size=2))) + shared
    b = shared + tuple(draw(st.lists(st.integers(1, 3), max_size=2)))
    return [a, b], {"axes": len(shared)}


def _axes_pair(a: Any, b: Any, axes: Any) -> tuple[list[int], list[int]]:
    if isinstance(axes, (int, np.integer)):
        return list(range(a.ndim - axes, a.ndim)), list(range(axes))
    first, second = axes
    first = [first] if isinstance(first, (int, np.integer)) else list(first)
    second = [second] if isinstance(second, (int, np.integer)) else list(second)
    return [i % a.ndim for i in first], [i % b.ndim for i in second]


@register_composite(reference=np.tensordot, shapes=_tensordot_shapes, arity=2, functions="tensordot")
def tensordot(a: Any, b: Any, axes: Any = 2) -> Any:
    """Σ over the paired axes of a and b (the last ``axes`` of a with the first of b, or two
    lists), as ``np.tensordot``: one matmul between two transposed, reshaped operands."""
    b = b if hasattr(b, "transpose") else a.__autograd_tensor__(np.asanyarray(b))
    first, second = _axes_pair(a, b, axes)
    if len(first) != len(second) or any(a.shape[i] != b.shape[j] for i, j in zip(first, second)):
        raise ValueError(f"tensordot: axes {axes!r} do not pair up shapes {a.shape} and {b.shape}")
    free_a = [i for i in range(a.ndim) if i not in first]
    free_b = [j for j in range(b.ndim) if j not in second]
    inner = int(np.prod([a.shape[i] for i in first]))
    left = a.transpose(free_a + first).reshape(-1, inner)
    right = b.transpose(second + free_b).reshape(inner, -1)
    return (left @ right).reshape(tuple(a.shape[i] for i in free_a) + tuple(b.shape[j] for j in free_b))


@register_composite(reference=np.outer, shapes=lambda draw: (_two_any(draw), {}), functions="outer", methods="outer")
def outer(a: Any, b: Any) -> Any:
    """zᵢⱼ = aᵢ bⱼ for the flattened a and b, as ``np.outer`` (PyTorch's ``outer``/``ger``)."""
    return a.reshape(-1, 1) * b.reshape(1, -1)


def _two_any(draw: Any) -> list[tuple[int, ...]]:
    from hypothesis import strategies as st  # a test-time dependency, imported only here

    shape = st.lists(st.integers(1, 3), max_size=3).map(tuple)
    return [draw(shape), draw(shape)]


@register_composite(reference=np.kron, shapes=lambda draw: (_two_any(draw), {}), functions="kron", methods="kron")
def kron(a: Any, b: Any) -> Any:
    """The Kronecker product: blocks aᵢ · b, as ``np.kron`` (shapes padded with leading 1s to one rank)."""
    b = b if hasattr(b, "reshape") else a.__autograd_tensor__(np.asanyarray(b))
    ndim = max(a.ndim, b.ndim)
    sa, sb = (1,) * (ndim - a.ndim) + a.shape, (1,) * (ndim - b.ndim) + b.shape
    spread_a = a.reshape(tuple(n for s in sa for n in (s, 1)))
    spread_b = b.reshape(tuple(n for s in sb for n in (1, s)))
    return (spread_a * spread_b).reshape(tuple(x * y for x, y in zip(sa, sb)))
