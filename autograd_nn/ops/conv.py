"""Convolution as three primitives that are each other's derivatives.

A convolution z = x ⋆ w is bilinear, and so are its two derivatives: the transposed
convolution (δx from δz and w) and the weight gradient (δw from x and δz). Each is a
primitive here, computed with ``im2col``/``col2im`` and one matmul (``_windows``), and
each one's backward is written with the other two through ``ctx.xp``, so the set is
closed: second (and higher) derivatives need no further formula. ``conv1d``, ``conv2d``
and the transposed forms (``conv_functions``) are thin front ends over these; the
geometry comes as tuples, one entry per spatial axis, padding as (before, after) pairs.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..function import Function
from ..registry import register_op
from . import _draw, _naive
from ._scratch import scratch
from ._windows import Ints, Pairs, batch_first, channels_first, col2im, im2col, out_shape, reduce_channels


def convolution(
    x: np.ndarray, w: np.ndarray, b: np.ndarray | None = None, *, stride: Ints, padding: Pairs, dilation: Ints,
    groups: int,
) -> np.ndarray:  # fmt: skip
    """z[n, o] = Σ_c,k w[o, c, k] · x_pad[n, g·C/G + c, s·i + d·k] (+ b[o]): cross-correlation, as PyTorch."""
    cols = im2col(x, w.shape[2:], stride, padding, dilation, groups)
    z = np.matmul(w.reshape(groups, w.shape[0] // groups, -1), cols)  # one GEMM per group
    out = out_shape(x.shape[2:], w.shape[2:], stride, padding, dilation)
    z = z.reshape((w.shape[0],) + out + (x.shape[0],))  # (C_out, *out, N)
    if b is not None:
        z += np.reshape(b, (-1,) + (1,) * (len(out) + 1))
    # NOTE: returned as a (N, C_out, *out) view of the GEMM's batch-last output, so δz in the
    # same layout (elementwise ops keep it) reaches the backward GEMMs without a copy.
    return batch_first(z)


def convolution_transpose(
    g: np.ndarray, w: np.ndarray, b: np.ndarray | None = None, *, size: Ints, stride: Ints, padding: Pairs,
    dilation: Ints, groups: int,
) -> np.ndarray:  # fmt: skip
    """x = Σ over windows of wᵀ δz: the adjoint of ``convolution`` in x, for an x of spatial shape ``size``."""
    n, c_out = g.shape[:2]
    kernel = w.shape[2:]
    weight = w.reshape(groups, c_out // groups, -1).transpose(0, 2, 1)
    rows = channels_first(g, groups)
    cols = scratch((groups, weight.shape[1], rows.shape[2]), np.result_type(weight, rows), rows)
    cols = np.matmul(weight, rows, out=cols)  # (G, C/G · K, out · N): one GEMM per group
    x = col2im(cols, (n, groups * w.shape[1]) + tuple(size), kernel, stride, padding, dilation)
    if b is not None:
        x = x + np.reshape(b, (-1,) + (1,) * len(kernel))
    return x


def convolution_weight_grad(
    x: np.ndarray, g: np.ndarray, *, kernel: Ints, stride: Ints, padding: Pairs, dilation: Ints, groups: int
) -> np.ndarray:
    """δw[o, c, k] = Σ_n,i δz[n, o, i] · x_pad[n, g·C/G + c, s·i + d·k]: the adjoint of ``convolution`` in w."""
    cols = im2col(x, kernel, stride, padding, dilation, groups)
    dw = np.matmul(channels_first(g, groups), cols.transpose(0, 2, 1))  # (G, C_out/G, C/G · K): one GEMM
    return dw.reshape((g.shape[1], x.shape[1] // groups) + tuple(kernel))


def _geometry(ctx: Any) -> dict[str, Any]:
    return {"stride": ctx.stride, "padding": ctx.padding, "dilation": ctx.dilation, "groups": ctx.groups}


def _keep_geometry(ctx: Any, stride: Ints, padding: Pairs, dilation: Ints, groups: int) -> None:
    ctx.stride, ctx.padding, ctx.dilation, ctx.groups = stride, padding, dilation, groups


@register_op(
    reference=_naive.convolution, shapes=_draw.convolution, derivative=convolution, xp_name="convolution", role="layer",
)  # fmt: skip
class Convolution(Function):
    """z = x ⋆ w + b;  δx = δz ⋆ᵀ w (transposed convolution),  δw = x ⋆ δz,  δb = Σ δz

    x (N, C, *L), w (C_out, C/groups, *k), b (C_out,) or absent. Forward copies the
    windows once (im2col) and multiplies them by w in one GEMM. Backward copies them again
    for δw (one GEMM) rather than keeping them: columns are prod(k) times the input's
    size, and holding them from forward to backward doubled the peak memory of a CNN
    step. δx is one GEMM and an add by kernel offset (col2im).
    """

    @staticmethod
    def forward(
        ctx: Any, x: Any, w: Any, b: Any = None, *, stride: Ints, padding: Pairs, dilation: Ints, groups: int
    ) -> Any:
        ctx.save_for_backward(x, w)
        _keep_geometry(ctx, stride, padding, dilation, groups)
        return convolution(x, w, b, stride=stride, padding=padding, dilation=dilation, groups=groups)

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        x, w = ctx.saved_tensors
        needs = ctx.needs_input_grad
        grad_x = grad_w = None
        if needs[0]:
            grad_x = ctx.xp.convolution_transpose(grad, w, size=x.shape[2:], **_geometry(ctx))
        if needs[1]:
            grad_w = ctx.xp.convolution_weight_grad(x, grad, kernel=w.shape[2:], **_geometry(ctx))
        if len(needs) == 2:
            return grad_x, grad_w
        return grad_x, grad_w, (reduce_channels(grad, len(ctx.stride)) if needs[2] else None)


@register_op(
    reference=_naive.convolution_transpose, shapes=_draw.convolution_transpose, derivative=convolution_transpose,
    xp_name="convolution_transpose", role="layer",
)  # fmt: skip
class ConvolutionTranspose(Function):
    """x = δz ⋆ᵀ w + b (the adjoint of convolution in its input);  δ(δz) = δx ⋆ w,  δw = δx ⋆ δz,  δb = Σ δx

    g (N, C_out, *out), w (C_out, C/groups, *k) as for the convolution it transposes;
    ``size`` is the spatial shape of the result. This is ``conv_transpose2d``'s op, with
    PyTorch's weight layout (in_channels, out_channels/groups, *k).
    """

    @staticmethod
    def forward(
        ctx: Any, g: Any, w: Any, b: Any = None, *, size: Ints, stride: Ints, padding: Pairs, dilation: Ints,
        groups: int,
    ) -> Any:  # fmt: skip
        ctx.save_for_backward(g, w)
        _keep_geometry(ctx, stride, padding, dilation, groups)
        return convolution_transpose(
            g, w, b, size=size, stride=stride, padding=padding, dilation=dilation, groups=groups
        )

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        g, w = ctx.saved_tensors
        needs = ctx.needs_input_grad
        grad_g = ctx.xp.convolution(grad, w, **_geometry(ctx)) if needs[0] else None
        grad_w = ctx.xp.convolution_weight_grad(grad, g, kernel=w.shape[2:], **_geometry(ctx)) if needs[1] else None
        if len(needs) == 2:
            return grad_g, grad_w
        return grad_g, grad_w, (reduce_channels(grad, len(ctx.stride)) if needs[2] else None)


@register_op(
    reference=_naive.convolution_weight_grad, shapes=_draw.convolution_weight_grad,
    derivative=convolution_weight_grad, xp_name="convolution_weight_grad",
)  # fmt: skip
class ConvolutionWeightGrad(Function):
    """δw = x ⋆ δz (the adjoint of convolution in its weight);  δx = δz ⋆ᵀ δ(δw),  δ(δz) = x ⋆ δ(δw)"""

    @staticmethod
    def forward(
        ctx: Any, x: Any, g: Any, *, kernel: Ints, stride: Ints, padding: Pairs, dilation: Ints, groups: int
    ) -> Any:
        ctx.save_for_backward(x, g)
        _keep_geometry(ctx, stride, padding, dilation, groups)
        return convolution_weight_grad(
            x, g, kernel=kernel, stride=stride, padding=padding, dilation=dilation, groups=groups
        )

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        x, g = ctx.saved_tensors
        need_x, need_g = ctx.needs_input_grad
        grad_x = ctx.xp.convolution_transpose(g, grad, size=x.shape[2:], **_geometry(ctx)) if need_x else None
        grad_g = ctx.xp.convolution(x, grad, **_geometry(ctx)) if need_g else None
        return grad_x, grad_g
