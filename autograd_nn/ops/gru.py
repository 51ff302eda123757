"""``GruStates``: one layer and direction of ``nn.GRU`` over a whole sequence, one node
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


def gru_sweep(xp: Any, x: Any, h: Any, w_ih: Any, w_hh: Any, b_ih: Any, b_hh: Any, reverse: bool):
    """Every step's (r, z, n, h W_hnᵀ + b_hn, h), by time: the three gates' hidden part is one GEMM."""
    hidden = w_hh.shape[1]
    xw = input_projection(xp, x, w_ih, b_ih)  # b_hh stays apart: r multiplies its n part
    w = transposed(w_hh)
    steps: list[Any] = [None] * x.shape[0]
    for t in time_order(x.shape[0], reverse):
        hw = xp.matmul(h, w)  # r, z, n side by side: (B, 3H)
        if b_hh is not None:
            hw = hw + b_hh
        xt = xw[t]
        rz = xp.sigmoid(xt[..., : 2 * hidden] + hw[..., : 2 * hidden])
        r, z = rz[..., :hidden], rz[..., hidden:]
        hn = hw[..., 2 * hidden :]
        n = xp.tanh(xt[..., 2 * hidden :] + r * hn)
        h = n + z * (h - n)  # (1 − z)·n + z·h
        steps[t] = (r, z, n, hn, h)
    return steps


def _gru_reference(x, h, w_ih, w_hh, b_ih=None, b_hh=None, *, reverse=False):
    zeros = np.zeros(len(w_ih))
    (W_r, W_z, W_n), (U_r, U_z, U_n) = np.split(w_ih, 3), np.split(w_hh, 3)
    (a_r, a_z, a_n), (c_r, c_z, c_n) = np.split(zeros + (0 if b_ih is None else b_ih), 3), np.split(
        zeros + (0 if b_hh is None else b_hh), 3
    )
    sigmoid = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
    out = np.empty(x.shape[:2] + (w_hh.shape[1],))
    for t in (range(len(x) - 1, -1, -1) if reverse else range(len(x))):
        r = sigmoid(x[t] @ W_r.T + a_r + h @ U_r.T + c_r)
        z = sigmoid(x[t] @ W_z.T + a_z + h @ U_z.T + c_z)
        n = np.tanh(x[t] @ W_n.T + a_n + r * (h @ U_n.T + c_n))
        out[t] = h = (1 - z) * n + z * h
    return out


def _gru_args(
    input: Any, hx: Any, weight_ih: Any, weight_hh: Any, bias_ih: Any = None, bias_hh: Any = None,
    reverse: bool = False,
) -> tuple[tuple[Any, ...], dict[str, Any]]:  # fmt: skip
    return (input, hx, weight_ih, weight_hh, bias_ih, bias_hh), {"reverse": reverse}


def _gru_primitives(x, h0, w_ih, w_hh, b_ih=None, b_hh=None, reverse=False):
    """What GruStates computes, in primitives: the sweep, step by step, stacked."""
    return stacked(PRIMITIVES, [step[4] for step in gru_sweep(PRIMITIVES, x, h0, w_ih, w_hh, b_ih, b_hh, reverse)])


@register_op(
    reference=_gru_reference, shapes=lambda draw: layer_shapes(draw, gates=3, states=1), functional="gru_layer",
    parse=_gru_args, decomposition=_gru_primitives, role="layer",
)  # fmt: skip
class GruStates(Function):
    """hₜ = (1 − z)·n + z·hₜ₋₁ for t = 1…T: r, z = σ(xₜW_iᵀ + b_i + hₜ₋₁W_hᵀ + b_h), n = tanh(xₜW_inᵀ + b_in + r·(hₜ₋₁W_hnᵀ + b_hn));  δ by backpropagation through time

    ``gru_layer(input, hx, weight_ih, weight_hh, bias_ih=None, bias_hh=None, reverse=False)``:
    one layer and direction of ``nn.GRU``, every step's state, shape (T, B, H).
    """

    @staticmethod
    def forward(
        ctx: Any, x: Any, h0: Any, w_ih: Any, w_hh: Any, b_ih: Any = None, b_hh: Any = None, *, reverse: bool = False
    ) -> Any:
        check_layer("gru_layer", x, [h0], w_ih, w_hh, [b_ih, b_hh], gates=3)
        steps = gru_sweep(ctx.xp, x, h0, w_ih, w_hh, b_ih, b_hh, reverse)
        ctx.save_for_backward(x, h0, w_ih, w_hh, b_ih, b_hh)
        ctx.reverse = reverse
        if ctx.needs_input_grad:  # (nothing is kept when nothing is recorded)
            ctx.steps = steps
        return np.stack([step[4] for step in steps])

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        xp, reverse = ctx.xp, ctx.reverse
        x, h0, w_ih, w_hh, b_ih, b_hh = ctx.saved_tensors
        steps = gru_sweep(xp, x, h0, w_ih, w_hh, b_ih, b_hh, reverse) if recorded(ctx, grad) else ctx.steps
        h_before = entering([step[4] for step in steps], h0, reverse)
        d_input: list[Any] = [None] * len(steps)
        d_hidden: list[Any] = [None] * len(steps)
        dh = None
        for t in reversed(time_order(len(steps), reverse)):
            r, z, n, hn, h = steps[t]
            dh = grad[t] if dh is None else grad[t] + dh
            dn = dh * (1 - z) * (1 - n * n)  # δ of n's pre-activation
            dr = dn * hn * r * (1 - r)
            dz = dh * (h_before[t] - n) * z * (1 - z)
            d_input[t] = xp.concatenate([dr, dz, dn], axis=-1)  # δ of xₜ W_ihᵀ + b_ih
            d_hidden[t] = xp.concatenate([dr, dz, dn * r], axis=-1)  # δ of hₜ₋₁ W_hhᵀ + b_hh
            dh = dh * z + xp.matmul(d_hidden[t], w_hh)
        needs = all_needs(ctx, 6)
        dx, dw_ih, dw_hh, db_ih, db_hh = weight_gradients(
            xp, needs[:1] + needs[2:], x, w_ih, w_hh, stacked(xp, d_input), stacked(xp, d_hidden),
            stacked(xp, h_before),
        )  # fmt: skip
        return (dx, dh, dw_ih, dw_hh, db_ih, db_hh)[: len(ctx.needs_input_grad)]
