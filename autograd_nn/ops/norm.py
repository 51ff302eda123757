"""Norms, as ``numpy.linalg.norm``: vector p-norms along one axis, matrix norms over two.

The p-norms (Σ|x|ᵖ)^(1/p) are one primitive whose derivative is 0 where the norm is 0 (a
subgradient, as PyTorch gives) instead of 0/0. The matrix norms 2, −2 and 'nuc' need the
singular values: a private op whose derivative U diag(δs) Vᵀ is itself an op with an exact
derivative, so second derivatives work (third derivatives of those three are refused).
Everything else is a composite of abs, sum, max and min.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._shapes import kept_shape, normalize_axes
from ..function import Function
from ..registry import register_composite, register_op


def _norm_shapes(draw: Any) -> tuple[list[tuple[int, ...]], dict[str, Any]]:
    from hypothesis import strategies as st  # a test-time dependency, imported only here

    shape = tuple(draw(st.lists(st.integers(1, 3), min_size=1, max_size=3)))
    axis = draw(st.none() | st.integers(-len(shape), len(shape) - 1) | st.just(tuple(range(len(shape)))))
    return [shape], {"axis": axis, "keepdims": draw(st.booleans()), "ord": draw(st.sampled_from([2, 3, 1.5]))}


@register_op(
    reference=lambda x, ord, axis, keepdims: np.sum(np.abs(x) ** ord, axis=axis, keepdims=keepdims) ** (1 / ord),
    shapes=_norm_shapes, kinks=[0.0],
)  # fmt: skip
class VectorNorm(Function):
    """z = (Σₐₓᵢₛ |x|ᵖ)^(1/p);  δx = δz · sign(x) (|x| / z)ᵖ⁻¹  (0 where z = 0 or x = 0)"""

    @staticmethod
    def forward(ctx: Any, x: Any, *, ord: float = 2, axis: Any = None, keepdims: bool = False) -> Any:  # noqa: A002
        axes = normalize_axes(axis, x.ndim, "norm")
        ctx.p, ctx.kept_shape = float(ord), kept_shape(x.shape, axes)
        if ord == 2:
            z = np.sqrt(np.sum(x * x, axis=axes, keepdims=keepdims))
        else:
            z = np.sum(np.abs(x) ** ord, axis=axes, keepdims=keepdims) ** (1.0 / ord)
        ctx.save_for_backward(x, z)
        return z

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        x, z = ctx.saved_tensors
        xp, p = ctx.xp, ctx.p
        z = z.reshape(ctx.kept_shape)
        # NOTE: z = 0 at a zero vector, where any x is 0 for p < 0, and where Σ|x|ᵖ underflowed
        # (x = [1e-200, 1e-200]): its δx is the subgradient 0 (as PyTorch gives), with z
        # replaced by 1 so that no 0/0 is formed. For p < 1 an x = 0 has (0/z)ᵖ⁻¹ = ∞: its
        # base is replaced too, and sign(0) = 0 gives it δx = 0 (PyTorch's). |x| / z is at most
        # 1 for p > 1 and its power at most 1 for p < 1: no overflow either way.
        vanished = np.asanyarray(z == 0)
        safe = xp.where(vanished, 1, z)
        grad = xp.where(vanished, 0, grad.reshape(ctx.kept_shape))
        if p == 2:
            return grad * x / safe
        magnitude = xp.where(np.asanyarray(x == 0), 1, xp.abs(x))
        return grad * xp.sign(x) * (magnitude / safe) ** (p - 1)


class _SingularValues(Function):
    """s = the singular values of the last two axes (descending);  δa = U diag(δs) Vᵀ"""

    @staticmethod
    def forward(ctx: Any, a: Any) -> Any:
        ctx.save_for_backward(a)
        return np.linalg.svd(a, compute_uv=False)

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        (a,) = ctx.saved_tensors
        return _SingularVectorsProduct.apply(a, grad)


def _svd(a: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool]:
    """U, s, V (not Vᵀ) of a thin SVD of ``a`` or of its transpose, so that U is m × k with m ≥ k."""
    wide = a.shape[-2] < a.shape[-1]
    u, s, vh = np.linalg.svd(a.swapaxes(-1, -2) if wide else a, full_matrices=False)
    return u, s, vh.swapaxes(-1, -2), wide


class _SingularVectorsProduct(Function):
    """G = U diag(g) Vᵀ for the SVD a = U diag(s) Vᵀ;  δg = diag(Uᵀ δG V),  δa from the SVD's derivative"""

    @staticmethod
    def forward(ctx: Any, a: Any, g: Any) -> Any:
        u, s, v, wide = _svd(np.asanyarray(a))
        ctx.svd, ctx.g, ctx.wide = (u, s, v), np.asanyarray(g), wide
        product = (u * ctx.g[..., None, :]) @ v.swapaxes(-1, -2)
        return product.swapaxes(-1, -2) if wide else product

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        if not isinstance(grad, np.ndarray):
            raise NotImplementedError(
                "norm: third derivatives of ord=2, -2 or 'nuc' (through the singular values) are not implemented"
            )
        u, s, v = ctx.svd
        g = ctx.g
        grad = grad.swapaxes(-1, -2) if ctx.wide else grad
        t = lambda m: m.swapaxes(-1, -2)  # noqa: E731 - a transpose of the last two axes
        grad_g = np.einsum("...ik,...ij,...jk->...k", u, grad, v)
        # G depends on a through U and V: the SVD's derivative (Townsend 2016) with
        # Ū = δG V diag(g), V̄ = δGᵀ U diag(g) and no direct dependence on s.
        u_bar = grad @ v * g[..., None, :]
        v_bar = t(grad) @ u * g[..., None, :]
        with np.errstate(divide="ignore"):
            gaps = s[..., None, :] ** 2 - s[..., :, None] ** 2  # F⁻¹: sⱼ² − sᵢ²
            f = np.where(np.eye(s.shape[-1], dtype=bool), 0.0, 1.0 / gaps)
        j = f * (t(u) @ u_bar - t(u_bar) @ u)
        k = f * (t(v) @ v_bar - t(v_bar) @ v)
        inner = j * s[..., None, :] + s[..., :, None] * k
        grad_a = u @ inner @ t(v)
        grad_a = grad_a + (u_bar - u @ (t(u) @ u_bar)) / s[..., None, :] @ t(v)
        return (t(grad_a) if ctx.wide else grad_a), grad_g


def _matrix_axes(x: Any, axis: Any) -> tuple[int, int]:
    axes = tuple(axis)
    first, second = (int(a) % x.ndim for a in axes) if x.ndim else (0, 0)
    if len(axes) != 2 or first == second:
        raise ValueError(f"norm: a matrix norm needs two distinct axes, got axis={axis!r} for shape {x.shape}")
    return first, second


def _matrix_norm(x: Any, ord: Any, rows: int, cols: int, keepdims: bool) -> Any:  # noqa: A002
    if ord in (None, "fro"):
        return VectorNorm.apply(x, ord=2, axis=(rows, cols), keepdims=keepdims)
    if ord in (1, -1, np.inf, -np.inf):
        summed, over = (rows, cols) if ord in (1, -1) else (cols, rows)
        sums = x.abs().sum(axis=summed, keepdims=True)
        z = sums.max(axis=over, keepdims=True) if ord > 0 else sums.min(axis=over, keepdims=True)
    elif ord in (2, -2, "nuc"):
        s = _SingularValues.apply(x.moveaxis((rows, cols), (-2, -1)))
        z = s.sum(axis=-1) if ord == "nuc" else s.max(axis=-1) if ord == 2 else s.min(axis=-1)
        z = z.expand_dims((-2, -1)).moveaxis((-2, -1), (rows, cols))
    else:
        raise ValueError(f"norm: invalid ord {ord!r} for a matrix; use None, 'fro', 'nuc', 1, -1, 2, -2, inf or -inf")
    return z if keepdims else z.squeeze((rows, cols))


def _vector_norm(x: Any, ord: Any, axis: Any, keepdims: bool) -> Any:  # noqa: A002
    if isinstance(ord, str):
        raise ValueError(f"norm: invalid ord {ord!r} for a vector; 'fro' and 'nuc' are matrix norms")
    if ord is None or ord == 2:
        return VectorNorm.apply(x, ord=2, axis=axis, keepdims=keepdims)
    if ord == np.inf:
        return x.abs().max(axis=axis, keepdims=keepdims)
    if ord == -np.inf:
        return x.abs().min(axis=axis, keepdims=keepdims)
    if ord == 1:
        return x.abs().sum(axis=axis, keepdims=keepdims)
    if ord == 0:  # the number of nonzero elements: a count, with zero gradient
        count = np.asanyarray(np.count_nonzero(x.data, axis=axis, keepdims=keepdims)).astype(x.dtype)
        return (x * 0).sum(axis=axis, keepdims=keepdims) + count  # a count in x's dtype (float32 stays float32)
    return VectorNorm.apply(x, ord=ord, axis=axis, keepdims=keepdims)


def _norm_composite_shapes(draw: Any) -> tuple[list[tuple[int, ...]], dict[str, Any]]:
    from hypothesis import strategies as st  # a test-time dependency, imported only here

    shape = tuple(draw(st.lists(st.integers(1, 3), min_size=1, max_size=3)))
    if len(shape) >= 2 and draw(st.booleans()):  # a matrix norm (the SVD ones: named tests)
        axis = tuple(draw(st.permutations(range(len(shape))))[:2])
        ord_ = draw(st.sampled_from([None, "fro", 1, -1, np.inf, -np.inf]))
    else:
        axis = draw(st.integers(-len(shape), len(shape) - 1) | st.none()) if len(shape) == 1 else draw(
            st.integers(-len(shape), len(shape) - 1))
        ord_ = draw(st.sampled_from([None, 1, 2, 3, np.inf, -np.inf, 0]))
    return [shape], {"ord": ord_, "axis": axis, "keepdims": draw(st.booleans())}


@register_composite(
    reference=np.linalg.norm, shapes=_norm_composite_shapes, distinct_abs=True, kinks=[0.0], arity=1, functions="norm",
    methods="norm",
)  # fmt: skip
def norm(x: Any, ord: Any = None, axis: Any = None, keepdims: bool = False) -> Any:  # noqa: A002
    """‖x‖ as ``numpy.linalg.norm``: a vector norm along an int ``axis``, a matrix norm
    over a pair; for ``axis=None`` the 2-norm of all elements (``ord=None``), or by ``ord``
    the vector (1-D) or matrix (2-D) norm."""
    if axis is None:
        if ord is None:
            return VectorNorm.apply(x, ord=2, axis=None, keepdims=keepdims)
        if x.ndim not in (1, 2):
            raise ValueError(f"norm: ord={ord!r} with axis=None needs a 1-D or 2-D array, got shape {x.shape}")
        axis = 0 if x.ndim == 1 else (0, 1)
    if isinstance(axis, (tuple, list)) and len(axis) != 1:
        rows, cols = _matrix_axes(x, axis)
        return _matrix_norm(x, ord, rows, cols, keepdims)
    return _vector_norm(x, ord, axis[0] if isinstance(axis, (tuple, list)) else axis, keepdims)
