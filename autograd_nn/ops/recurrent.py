"""Recurrent layers over a whole sequence, one node per layer and direction: what the
three cells share, and the plain (Elman) cell ``RnnStates``. ``LstmStates`` and
``GruStates`` are in ``ops/lstm.py`` and ``ops/gru.py``.

The time loop is Python's, but each step is one GEMM for all of a cell's gates (hₜ₋₁ W_hhᵀ),
and every input's contribution is one GEMM for the whole sequence (x W_ihᵀ, T·B rows at
once); backpropagation through time runs the same way in reverse, then δx, ∂C/∂W_ih and
∂C/∂W_hh are again one GEMM each. The forward and the backward sweeps are written once
against ``xp`` (arrays in a plain backward; Tensors under ``create_graph``, where the
gates are recomputed from the recorded inputs, ``ops/_recompute.py``).

Inputs are time-major: x (T, B, I), states (B, H); weights in PyTorch's layout,
W_ih (G·H, I) and W_hh (G·H, H) with the G gates stacked in PyTorch's order.
"""

from __future__ import annotations

from collections.abc import Sequence
from types import SimpleNamespace
from typing import Any

import numpy as np

from ..function import Function
from ..registry import register_op
from ._recompute import recorded
from .activation import Sigmoid, Tanh
from .arithmetic import Maximum
from .linalg import Matmul
from .shape import Concatenate

# The primitives themselves, as the sweeps call them: what each recurrent op is made of
# (its ``decomposition``, which the renderer and explain_backward read).
PRIMITIVES = SimpleNamespace(
    matmul=Matmul.apply, sigmoid=Sigmoid.apply, tanh=Tanh.apply, maximum=Maximum.apply,
    concatenate=lambda parts, axis: Concatenate.apply(*parts, axis=axis),
)  # fmt: skip


def time_order(steps: int, reverse: bool) -> range:
    """The order a direction visits the time steps in."""
    return range(steps - 1, -1, -1) if reverse else range(steps)


def transposed(w: Any) -> Any:
    """wᵀ; for an array a contiguous copy, since BLAS multiplies by a transposed view at
    about half the speed for the per-step shapes of a recurrence. (``.copy()``, not
    ``np.ascontiguousarray``, which hands a compiled step's watched array back unwatched.)"""
    return w.T.copy() if isinstance(w, np.ndarray) else w.T


def input_projection(xp: Any, x: Any, w_ih: Any, *biases: Any) -> Any:
    """x W_ihᵀ + biases for every time step at once: one GEMM of T·B rows, shape (T, B, G·H)."""
    steps, batch, features = x.shape
    z = xp.matmul(x.reshape(steps * batch, features), w_ih.T)
    present = [b for b in biases if b is not None]
    if present:
        z = z + (present[0] if len(present) == 1 else present[0] + present[1])  # one pass over z, not two
    return z.reshape(steps, batch, -1)


def stacked(xp: Any, items: Sequence[Any]) -> Any:
    """The per-step arrays as one (T, ...) array."""
    return xp.concatenate([a.reshape((1,) + a.shape) for a in items], axis=0)


def entering(states: Sequence[Any], initial: Any, reverse: bool) -> list[Any]:
    """The state each step starts from: the initial one, then its predecessor's result."""
    order = list(time_order(len(states), reverse))
    before = [initial] * len(states)
    for previous, t in zip(order, order[1:]):
        before[t] = states[previous]
    return before


def all_needs(ctx: Any, count: int) -> tuple[bool, ...]:
    """``ctx.needs_input_grad`` for all ``count`` inputs (biases left out need nothing)."""
    needs = tuple(ctx.needs_input_grad)
    return needs + (False,) * (count - len(needs))


def weight_gradients(
    xp: Any, needs: Sequence[bool], x: Any, w_ih: Any, w_hh: Any, d_input: Any, d_hidden: Any, h_before: Any
) -> tuple[Any, Any, Any, Any, Any]:
    """δx, ∂C/∂W_ih, ∂C/∂W_hh, ∂C/∂b_ih, ∂C/∂b_hh from the gates' δ of every step, in one
    GEMM each: ``d_input`` (T, B, G·H) is δ of x W_ihᵀ + b_ih, ``d_hidden`` of h W_hhᵀ + b_hh."""
    steps, batch, features = x.shape
    rows = steps * batch
    need_x, need_w_ih, need_w_hh, need_b_ih, need_b_hh = needs
    dx = xp.matmul(d_input, w_ih) if need_x else None
    flat_input = d_input.reshape(rows, -1)
    flat_hidden = d_hidden.reshape(rows, -1)
    dw_ih = xp.matmul(flat_input.T, x.reshape(rows, features)) if need_w_ih else None
    dw_hh = xp.matmul(flat_hidden.T, h_before.reshape(rows, -1)) if need_w_hh else None
    db_ih = flat_input.sum(axis=0) if need_b_ih else None
    db_hh = flat_hidden.sum(axis=0) if need_b_hh else None
    return dx, dw_ih, dw_hh, db_ih, db_hh


def check_layer(
    op_name: str, x: Any, states: Sequence[Any], w_ih: Any, w_hh: Any, biases: Sequence[Any], gates: int
) -> int:
    """The hidden size, after checking every shape against x (T, B, I) and the weights."""
    if np.ndim(x) != 3 or x.shape[0] == 0:
        raise ValueError(f"{op_name}: input must have shape (T, B, features) with T ≥ 1, got {np.shape(x)}")
    steps, batch, features = x.shape
    if np.ndim(states[0]) != 2:
        raise ValueError(f"{op_name}: initial state must have shape (B, hidden_size), got {np.shape(states[0])}")
    hidden = np.shape(states[0])[-1]
    expected = {"weight_ih": (gates * hidden, features), "weight_hh": (gates * hidden, hidden)}
    for name, value in (("weight_ih", w_ih), ("weight_hh", w_hh)):
        if np.shape(value) != expected[name]:
            raise ValueError(
                f"{op_name}: {name} must have shape {expected[name]} for input of shape {x.shape} and hidden size "
                f"{hidden}, got {np.shape(value)}"
            )
    for name, value in zip(("bias_ih", "bias_hh"), biases):
        if value is not None and np.shape(value) != (gates * hidden,):
            raise ValueError(f"{op_name}: {name} must have shape ({gates * hidden},), got {np.shape(value)}")
    for value in states:
        if np.shape(value) != (batch, hidden):
            raise ValueError(f"{op_name}: initial state must have shape ({batch}, {hidden}), got {np.shape(value)}")
    return hidden


def layer_shapes(draw: Any, gates: int, states: int) -> tuple[list[tuple[int, ...]], dict[str, Any]]:
    """Input shapes for the shared property test: x, the initial states, the weights and
    (usually) both biases; small, since finite differences run the whole sequence."""
    from hypothesis import strategies as st  # a test-time dependency, imported only here

    steps, batch, features, hidden = (draw(st.integers(1, n)) for n in (3, 2, 2, 2))
    shapes = [(steps, batch, features)] + [(batch, hidden)] * states
    shapes += [(gates * hidden, features), (gates * hidden, hidden)]
    if draw(st.booleans()) or draw(st.booleans()):
        shapes += [(gates * hidden,)] * 2
    return shapes, {"reverse": draw(st.booleans())}


# ---------------------------------------------------------------------------- RNN
def _activate(xp: Any, z: Any, nonlinearity: str) -> Any:
    return xp.tanh(z) if nonlinearity == "tanh" else xp.maximum(z, 0)


def rnn_sweep(xp: Any, x: Any, h: Any, w_ih: Any, w_hh: Any, b_ih: Any, b_hh: Any, reverse: bool, nonlinearity: str):
    """hₜ = act(xₜ W_ihᵀ + b_ih + hₜ₋₁ W_hhᵀ + b_hh) for every step (a list, by time)."""
    xw = input_projection(xp, x, w_ih, b_ih, b_hh)
    w = transposed(w_hh)
    states = [None] * x.shape[0]
    for t in time_order(x.shape[0], reverse):
        h = _activate(xp, xw[t] + xp.matmul(h, w), nonlinearity)
        states[t] = h
    return states


def _rnn_reference(x, h, w_ih, w_hh, b_ih=None, b_hh=None, *, reverse=False, nonlinearity="tanh"):
    bias = (0 if b_ih is None else b_ih) + (0 if b_hh is None else b_hh)
    out = np.empty(x.shape[:2] + (w_hh.shape[1],))
    for t in (range(len(x) - 1, -1, -1) if reverse else range(len(x))):
        z = x[t] @ w_ih.T + h @ w_hh.T + bias
        out[t] = h = np.tanh(z) if nonlinearity == "tanh" else np.maximum(z, 0)
    return out


def _rnn_primitives(x, h0, w_ih, w_hh, b_ih=None, b_hh=None, reverse=False, nonlinearity="tanh"):
    """What RnnStates computes, in primitives: the sweep, step by step, stacked."""
    return stacked(PRIMITIVES, rnn_sweep(PRIMITIVES, x, h0, w_ih, w_hh, b_ih, b_hh, reverse, nonlinearity))


def _rnn_shapes(draw: Any) -> tuple[list[tuple[int, ...]], dict[str, Any]]:
    shapes, params = layer_shapes(draw, gates=1, states=1)
    return shapes, {**params, "nonlinearity": "tanh"}  # relu's kink: checked at chosen points (tests/nn)


def _rnn_args(
    input: Any, hx: Any, weight_ih: Any, weight_hh: Any, bias_ih: Any = None, bias_hh: Any = None,
    reverse: bool = False, nonlinearity: str = "tanh",
) -> tuple[tuple[Any, ...], dict[str, Any]]:  # fmt: skip
    return (input, hx, weight_ih, weight_hh, bias_ih, bias_hh), {"reverse": reverse, "nonlinearity": nonlinearity}


@register_op(
    reference=_rnn_reference, shapes=_rnn_shapes, functional="rnn_layer", parse=_rnn_args,
    decomposition=_rnn_primitives, role="layer",
)  # fmt: skip
class RnnStates(Function):
    """hₜ = tanh(xₜ W_ihᵀ + b_ih + hₜ₋₁ W_hhᵀ + b_hh) for t = 1…T;  δ by backpropagation through time

    ``rnn_layer(input, hx, weight_ih, weight_hh, bias_ih=None, bias_hh=None, reverse=False,
    nonlinearity='tanh')``: one layer and direction of ``nn.RNN``, every step's state,
    shape (T, B, H). ``nonlinearity='relu'`` uses max(z, 0); ``reverse`` runs from T to 1.
    """

    @staticmethod
    def forward(
        ctx: Any, x: Any, h0: Any, w_ih: Any, w_hh: Any, b_ih: Any = None, b_hh: Any = None, *,
        reverse: bool = False, nonlinearity: str = "tanh",
    ) -> Any:  # fmt: skip
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"rnn_layer: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        check_layer("rnn_layer", x, [h0], w_ih, w_hh, [b_ih, b_hh], gates=1)
        states = rnn_sweep(ctx.xp, x, h0, w_ih, w_hh, b_ih, b_hh, reverse, nonlinearity)
        ctx.save_for_backward(x, h0, w_ih, w_hh, b_ih, b_hh)
        ctx.reverse, ctx.nonlinearity = reverse, nonlinearity
        if ctx.needs_input_grad:  # (nothing is kept when nothing is recorded)
            ctx.states = states
        return np.stack(states)

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        xp, reverse, nonlinearity = ctx.xp, ctx.reverse, ctx.nonlinearity
        x, h0, w_ih, w_hh, b_ih, b_hh = ctx.saved_tensors
        states = ctx.states
        if recorded(ctx, grad):
            states = rnn_sweep(xp, x, h0, w_ih, w_hh, b_ih, b_hh, reverse, nonlinearity)
        d_pre: list[Any] = [None] * len(states)
        dh = None
        for t in reversed(time_order(len(states), reverse)):
            dh = grad[t] if dh is None else grad[t] + dh
            h = states[t]
            d_pre[t] = dh * (1 - h * h) if nonlinearity == "tanh" else dh * (h > 0)
            dh = xp.matmul(d_pre[t], w_hh)
        deltas = stacked(xp, d_pre)
        needs = all_needs(ctx, 6)
        dx, dw_ih, dw_hh, db_ih, db_hh = weight_gradients(
            xp, needs[:1] + needs[2:], x, w_ih, w_hh, deltas, deltas, stacked(xp, entering(states, h0, reverse))
        )
        return (dx, dh, dw_ih, dw_hh, db_ih, db_hh)[: len(ctx.needs_input_grad)]
