"""``LstmStates``: one layer and direction of ``nn.LSTM`` over a whole sequence, one node
(see ``ops/recurrent.py`` for how the recurrent layers are computed)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..function import Function
from ..registry import register_op
from ._recompute import recorded
from .recurrent import (
    PRIMITIVES,
    all_needs,
    check_layer,
    entering,
    input_projection,
    layer_shapes,
    stacked,
    time_order,
    transposed,
    weight_gradients,
)


def lstm_sweep(xp: Any, x: Any, h: Any, c: Any, w_ih: Any, w_hh: Any, b_ih: Any, b_hh: Any, reverse: bool):
    """Every step's (i, f, g, o, c, tanh c, h), by time: the gates of one GEMM, then the cell."""
    hidden = w_hh.shape[1]
    xw = input_projection(xp, x, w_ih, b_ih, b_hh)
    w = transposed(w_hh)
    steps: list[Any] = [None] * x.shape[0]
    for t in time_order(x.shape[0], reverse):
        gates = xw[t] + xp.matmul(h, w)  # i, f, g, o side by side: (B, 4H)
        s = xp.sigmoid(gates)  # (σ of g is not used: one call on the whole block is cheaper than three)
        i, f, o = s[..., :hidden], s[..., hidden : 2 * hidden], s[..., 3 * hidden :]
        g = xp.tanh(gates[..., 2 * hidden : 3 * hidden])
        c = f * c + i * g
        tanh_c = xp.tanh(c)
        h = o * tanh_c
        steps[t] = (i, f, g, o, c, tanh_c, h)
    return steps


def _lstm_reference(x, h, c, w_ih, w_hh, b_ih=None, b_hh=None, *, reverse=False):
    bias = (0 if b_ih is None else b_ih) + (0 if b_hh is None else b_hh) + np.zeros(len(w_ih))
    (W_i, W_f, W_g, W_o), (U_i, U_f, U_g, U_o) = np.split(w_ih, 4), np.split(w_hh, 4)
    b_i, b_f, b_g, b_o = np.split(bias, 4)
    sigmoid = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    out = np.empty((2,) + x.shape[:2] + (w_hh.shape[1],))
    for t in (range(len(x) - 1, -1, -1) if reverse else range(len(x))):
        i = sigmoid(x[t] @ W_i.T + h @ U_i.T + b_i)
        f = sigmoid(x[t] @ W_f.T + h @ U_f.T + b_f)
        g = np.tanh(x[t] @ W_g.T + h @ U_g.T + b_g)
        o = sigmoid(x[t] @ W_o.T + h @ U_o.T + b_o)
        c = f * c + i * g
        h = o * np.tanh(c)
        out[0, t], out[1, t] = h, c
    return out


def _lstm_args(
    input: Any, hx: Any, cx: Any, weight_ih: Any, weight_hh: Any, bias_ih: Any = None, bias_hh: Any = None,
    reverse: bool = False,
) -> tuple[tuple[Any, ...], dict[str, Any]]:  # fmt: skip
    return (input, hx, cx, weight_ih, weight_hh, bias_ih, bias_hh), {"reverse": reverse}


def _lstm_primitives(x, h0, c0, w_ih, w_hh, b_ih=None, b_hh=None, reverse=False):
    """What LstmStates computes, in primitives: the sweep, step by step, [h; c] stacked."""
    steps = lstm_sweep(PRIMITIVES, x, h0, c0, w_ih, w_hh, b_ih, b_hh, reverse)
    return stacked(PRIMITIVES, [stacked(PRIMITIVES, [s[6] for s in steps]), stacked(PRIMITIVES, [s[4] for s in steps])])


@register_op(
    reference=_lstm_reference, shapes=lambda draw: layer_shapes(draw, gates=4, states=2), functional="lstm_layer",
    parse=_lstm_args, decomposition=_lstm_primitives, role="layer",
)  # fmt: skip
class LstmStates(Function):
    """[hₜ; cₜ] for t = 1…T: i, f, g, o = σ, σ, tanh, σ(xₜW_ihᵀ + b_ih + hₜ₋₁W_hhᵀ + b_hh), cₜ = f·cₜ₋₁ + i·g, hₜ = o·tanh cₜ;  δ by backpropagation through time

    ``lstm_layer(input, hx, cx, weight_ih, weight_hh, bias_ih=None, bias_hh=None,
    reverse=False)``: one layer and direction of ``nn.LSTM``. Returns every step's hidden
    and cell state stacked, shape (2, T, B, H): ``out[0]`` is the output sequence, and
    the final states are ``out[:, -1]`` (``out[:, 0]`` when ``reverse``).
    """

    @staticmethod
    def forward(
        ctx: Any, x: Any, h0: Any, c0: Any, w_ih: Any, w_hh: Any, b_ih: Any = None, b_hh: Any = None, *,
        reverse: bool = False,
    ) -> Any:  # fmt: skip
        check_layer("lstm_layer", x, [h0, c0], w_ih, w_hh, [b_ih, b_hh], gates=4)
        steps = lstm_sweep(ctx.xp, x, h0, c0, w_ih, w_hh, b_ih, b_hh, reverse)
        ctx.save_for_backward(x, h0, c0, w_ih, w_hh, b_ih, b_hh)
        ctx.reverse = reverse
        if ctx.needs_input_grad:  # (nothing is kept when nothing is recorded)
            ctx.steps = steps
        return np.stack([np.stack([step[6] for step in steps]), np.stack([step[4] for step in steps])])

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        xp, reverse = ctx.xp, ctx.reverse
        x, h0, c0, w_ih, w_hh, b_ih, b_hh = ctx.saved_tensors
        steps = lstm_sweep(xp, x, h0, c0, w_ih, w_hh, b_ih, b_hh, reverse) if recorded(ctx, grad) else ctx.steps
        c_before = entering([step[4] for step in steps], c0, reverse)
        deltas: list[Any] = [None] * len(steps)
        dh = dc = None
        for t in reversed(time_order(len(steps), reverse)):
            i, f, g, o, c, tanh_c, h = steps[t]
            dh = grad[0, t] if dh is None else grad[0, t] + dh
            dc_t = grad[1, t] + dh * o * (1 - tanh_c * tanh_c)
            if dc is not None:
                dc_t = dc_t + dc
            di = dc_t * g * i * (1 - i)
            df = dc_t * c_before[t] * f * (1 - f)
            dg = dc_t * i * (1 - g * g)
            do = dh * tanh_c * o * (1 - o)
            deltas[t] = xp.concatenate([di, df, dg, do], axis=-1)  # δ of the gates' pre-activations
            dh = xp.matmul(deltas[t], w_hh)
            dc = dc_t * f
        gates = stacked(xp, deltas)
        h_before = stacked(xp, entering([step[6] for step in steps], h0, reverse))
        needs = all_needs(ctx, 7)
        dx, dw_ih, dw_hh, db_ih, db_hh = weight_gradients(
            xp, needs[:1] + needs[3:], x, w_ih, w_hh, gates, gates, h_before
        )
        return (dx, dh, dc, dw_ih, dw_hh, db_ih, db_hh)[: len(ctx.needs_input_grad)]
