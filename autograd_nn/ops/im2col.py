"""``unfold`` (im2col) and ``fold`` (col2im), PyTorch's ``F.unfold`` and ``F.fold``: each the
other's adjoint, so each one's derivative is the other."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..function import Function
from ..registry import register_op
from . import _naive
from ._windows import Ints, col2im, im2col, out_shape, per_axis


def _geometry(op: str, kernel_size: Any, dilation: Any, padding: Any, stride: Any) -> dict[str, Ints]:
    return {
        "kernel_size": per_axis(kernel_size, 2, "kernel_size", op), "dilation": per_axis(dilation, 2, "dilation", op),
        "padding": per_axis(padding, 2, "padding", op, minimum=0), "stride": per_axis(stride, 2, "stride", op),
    }  # fmt: skip


def _unfold_args(input: Any, kernel_size: Any, dilation: Any = 1, padding: Any = 0, stride: Any = 1) -> Any:
    return (input,), _geometry("unfold", kernel_size, dilation, padding, stride)


def _fold_args(
    input: Any, output_size: Any, kernel_size: Any, dilation: Any = 1, padding: Any = 0, stride: Any = 1
) -> Any:
    size = per_axis(output_size, 2, "output_size", "fold")
    return (input,), {"output_size": size, **_geometry("fold", kernel_size, dilation, padding, stride)}


def _windows_of(op: str, spatial: Ints, kernel_size: Ints, dilation: Ints, padding: Ints, stride: Ints) -> Ints:
    out = out_shape(spatial, kernel_size, stride, tuple((p, p) for p in padding), dilation)
    if any(o < 1 for o in out):
        raise ValueError(
            f"{op}: spatial shape {tuple(spatial)} padded by {padding} is smaller than the kernel {kernel_size} "
            f"dilated by {dilation}"
        )
    return out


def unfold(x: np.ndarray, *, kernel_size: Ints, dilation: Ints, padding: Ints, stride: Ints) -> np.ndarray:
    """(N, C, H, W) → (N, C·kh·kw, L): column l holds window l, channel-major, as PyTorch."""
    if np.ndim(x) != 4:
        raise ValueError(f"unfold: input must have shape (N, C, H, W), got {np.shape(x)}")
    n = x.shape[0]
    _windows_of("unfold", x.shape[2:], kernel_size, dilation, padding, stride)
    cols = im2col(x, kernel_size, stride, tuple((p, p) for p in padding), dilation, 1)[0]  # (C·K, L·N), scratch
    return np.moveaxis(cols.reshape(cols.shape[0], -1, n), -1, 0).copy()  # (N, C·K, L), ours to return


def fold(
    cols: np.ndarray, *, output_size: Ints, kernel_size: Ints, dilation: Ints, padding: Ints, stride: Ints
) -> np.ndarray:
    """(N, C·kh·kw, L) → (N, C, *output_size): each column added back over its window."""
    k = math.prod(kernel_size)
    windows = _windows_of("fold", output_size, kernel_size, dilation, padding, stride)
    if np.ndim(cols) != 3 or cols.shape[1] % k or cols.shape[2] != math.prod(windows):
        raise ValueError(
            f"fold: input must have shape (N, C·{k}, {math.prod(windows)}) for kernel {kernel_size} and "
            f"output size {output_size}, got {np.shape(cols)}"
        )
    n, c = cols.shape[0], cols.shape[1] // k
    pairs = tuple((p, p) for p in padding)
    return col2im(np.moveaxis(cols, 0, -1), (n, c) + tuple(output_size), kernel_size, stride, pairs, dilation)


@register_op(
    reference=_naive.unfold, shapes=lambda draw: _draw_unfold(draw, False), functional="unfold", parse=_unfold_args,
    derivative=unfold,
)  # fmt: skip
class Unfold(Function):
    """cols = im2col(x): every window as a column;  δx = fold(δcols) (col2im)"""

    @staticmethod
    def forward(ctx: Any, x: Any, *, kernel_size: Ints, dilation: Ints, padding: Ints, stride: Ints) -> Any:
        ctx.geometry = {"kernel_size": kernel_size, "dilation": dilation, "padding": padding, "stride": stride}
        ctx.size = x.shape[2:]
        return unfold(x, **ctx.geometry)

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        return ctx.xp.fold(grad, output_size=ctx.size, **ctx.geometry)


@register_op(
    reference=_naive.fold, shapes=lambda draw: _draw_unfold(draw, True), functional="fold", parse=_fold_args,
    derivative=fold,
)  # fmt: skip
class Fold(Function):
    """x = col2im(cols): every column added back over its window;  δcols = unfold(δx)"""

    @staticmethod
    def forward(
        ctx: Any, cols: Any, *, output_size: Ints, kernel_size: Ints, dilation: Ints, padding: Ints, stride: Ints
    ) -> Any:
        ctx.geometry = {"kernel_size": kernel_size, "dilation": dilation, "padding": padding, "stride": stride}
        return fold(cols, output_size=output_size, **ctx.geometry)

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        return ctx.xp.unfold(grad, **ctx.geometry)


def _draw_unfold(draw: Any, folding: bool) -> tuple[list[tuple[int, ...]], dict[str, Any]]:
    from hypothesis import strategies as st

    kernel = tuple(draw(st.integers(1, 2)) for _ in range(2))
    dilation = tuple(draw(st.integers(1, 2)) for _ in range(2))
    padding = tuple(draw(st.integers(0, 1)) for _ in range(2))
    stride = tuple(draw(st.integers(1, 2)) for _ in range(2))
    size = tuple(
        draw(st.integers(max(1, d * (k - 1) + 1 - 2 * p), max(1, d * (k - 1) + 1 - 2 * p) + 1))
        for k, d, p in zip(kernel, dilation, padding)
    )
    n, c = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    params = {"kernel_size": kernel, "dilation": dilation, "padding": padding, "stride": stride}
    if not folding:
        return [(n, c) + size], params
    windows = out_shape(size, kernel, stride, tuple((p, p) for p in padding), dilation)
    return [(n, c * math.prod(kernel), math.prod(windows))], {"output_size": size, **params}
