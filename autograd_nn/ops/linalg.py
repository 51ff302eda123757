"""Matrix products, with numpy's full ``matmul`` semantics, and PyTorch's strict ``mm`` and ``bmm``."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..function import Function
from ..registry import register_composite, register_op


def _describe(x: np.ndarray, y: np.ndarray) -> str:
    """The reason two operands cannot be multiplied, in words."""
    if x.ndim == 0 or y.ndim == 0:
        return f"matmul: operands must be at least 1-D, got shapes {x.shape} and {y.shape}"
    inner_x = x.shape[-1]
    inner_y = y.shape[0] if y.ndim == 1 else y.shape[-2]
    if inner_x != inner_y:
        return f"matmul: shapes {x.shape} and {y.shape} are not aligned ({inner_x} != {inner_y})"
    return (
        f"matmul: the batch dimensions of shapes {x.shape} and {y.shape} "
        f"({x.shape[:-2]} and {y.shape[:-2]}) cannot be broadcast together"
    )


def product(matmul: Any, a: Any, b: Any) -> Any:
    """``matmul(a, b)``, and with an inner dimension of 1 (an outer product, as δ¹ = δ² W² when
    layer 2 has one unit) the broadcast ``a * b``: the same single products, without a GEMM of
    depth 1, which OpenBLAS runs 3–5× slower for B2's 128 × 200 δ¹ (benchmarks/outer_product.py). The
    values are numpy's matmul's; only a zero's sign may differ (a product −0.0 stays −0.0)."""
    if a.ndim >= 2 and b.ndim >= 2 and a.shape[-1] == 1 and b.shape[-2] == 1:
        return a * b
    return matmul(a, b)


@register_op(
    reference=np.matmul, shapes="matmul", functions="matmul", methods=("matmul", "dot"),
    operators=("__matmul__", "__rmatmul__"), ufuncs=np.matmul, derivative=np.matmul,
)  # fmt: skip
class Matmul(Function):
    """z = x @ y;  δx = δz @ yᵀ,  δy = xᵀ @ δz   (1-D operands as numpy: a row, a column)"""

    @staticmethod
    def forward(ctx: Any, x: Any, y: Any) -> Any:
        x, y = np.asanyarray(x), np.asanyarray(y)
        try:
            z = product(np.matmul, x, y)
        except ValueError:
            raise ValueError(_describe(x, y)) from None
        ctx.save_for_backward(x, y)
        return z

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        x, y = ctx.saved_tensors
        need_x, need_y = ctx.needs_input_grad
        x_is_vector, y_is_vector = x.ndim == 1, y.ndim == 1
        # numpy treats a 1-D y as a column (k, 1) and a 1-D x as a row (1, k), then drops
        # that axis from z; put it back into δz so both products are plain matmuls.
        if y_is_vector:
            y = y.reshape(-1, 1)
            grad = grad.reshape(grad.shape + (1,))
        if x_is_vector:
            x = x.reshape(1, -1)
            grad = grad.reshape(grad.shape[:-1] + (1,) + grad.shape[-1:])
        grad_x = grad_y = None
        if need_x:
            grad_x = product(ctx.xp.matmul, grad, y.swapaxes(-1, -2))
            if x_is_vector:
                grad_x = grad_x.reshape(grad_x.shape[:-2] + grad_x.shape[-1:])
        if need_y:
            grad_y = product(ctx.xp.matmul, x.swapaxes(-1, -2), grad)
            if y_is_vector:
                grad_y = grad_y.reshape(grad_y.shape[:-1])
        return grad_x, grad_y


def _matrices_shapes(batched: bool) -> Any:
    def shapes(draw: Any) -> tuple[list[tuple[int, ...]], dict[str, Any]]:
        from hypothesis import strategies as st  # a test-time dependency, imported only here

        n, k, m = (draw(st.integers(1, 4)) for _ in range(3))
        lead = (draw(st.integers(1, 3)),) if batched else ()
        return [lead + (n, k), lead + (k, m)], {}

    return shapes


def _check_matrices(name: str, x: Any, y: Any, ndim: int) -> None:
    """PyTorch's rules for mm (two matrices) and bmm (two batches of matrices, one batch size):
    no 1-D operands and no broadcasting, as numpy's matmul would allow."""
    what = "2-D tensors (matrices)" if ndim == 2 else "3-D tensors (batches of matrices)"
    if x.ndim != ndim or y.ndim != ndim:
        raise ValueError(f"{name}: expects two {what}, got shapes {x.shape} and {y.shape}")
    if ndim == 3 and x.shape[0] != y.shape[0]:
        raise ValueError(
            f"{name}: the batch sizes of shapes {x.shape} and {y.shape} differ ({x.shape[0]} != {y.shape[0]}); "
            "bmm does not broadcast (matmul does)"
        )
    if x.shape[-1] != y.shape[-2]:
        raise ValueError(
            f"{name}: shapes {x.shape} and {y.shape} cannot be multiplied ({x.shape[-1]} != {y.shape[-2]})"
        )


@register_composite(reference=np.matmul, shapes=_matrices_shapes(False), functions="mm", methods="mm")
def mm(x: Any, y: Any) -> Any:
    """z = x @ y for two matrices (PyTorch's ``mm``: 2-D only, no broadcasting);  δx = δz @ yᵀ,  δy = xᵀ @ δz"""
    _check_matrices("mm", x, _as_tensor_like(y), 2)
    return Matmul.apply(x, y)


@register_composite(reference=np.matmul, shapes=_matrices_shapes(True), functions="bmm", methods="bmm")
def bmm(x: Any, y: Any) -> Any:
    """zᵦ = xᵦ @ yᵦ for each b of one batch (PyTorch's ``bmm``: 3-D only, no broadcasting);
    δxᵦ = δzᵦ @ yᵦᵀ,  δyᵦ = xᵦᵀ @ δzᵦ"""
    _check_matrices("bmm", x, _as_tensor_like(y), 3)
    return Matmul.apply(x, y)


def _as_tensor_like(y: Any) -> Any:
    """An operand that has a shape and ndim (a Tensor or an ndarray; lists become arrays)."""
    return y if hasattr(y, "ndim") and hasattr(y, "shape") else np.asanyarray(y)


def _linear_shapes(draw: Any) -> tuple[list[tuple[int, ...]], dict[str, Any]]:
    """Input shapes for the shared property tests: x (..., in), W (out, in), b (out,)."""
    from hypothesis import strategies as st  # a test-time dependency, imported only here

    batch = tuple(draw(st.lists(st.integers(1, 3), max_size=2)))
    n_in, n_out = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    return [batch + (n_in,), (n_out, n_in), (n_out,)], {}


def _linear_args(x: Any, weight: Any, bias: Any = None) -> tuple[tuple[Any, ...], dict[str, Any]]:
    return ((x, weight) if bias is None else (x, weight, bias)), {}


def _linear_primitives(x: Any, W: Any, b: Any = None) -> Any:
    """What Linear computes, in primitives: z = x Wᵀ (+ b)."""
    z = x @ W.T
    return z if b is None else z + b


@register_op(
    shapes=_linear_shapes, reference=lambda x, W, b: x @ W.T + b, functional="linear", parse=_linear_args,
    decomposition=_linear_primitives, role="layer",
)  # fmt: skip
class Linear(Function):
    """z = x Wᵀ + b;  δx = δz W,  δW = δzᵀ x,  δb = Σ δz   (W of shape (out, in), as PyTorch)

    One node for the affine layer instead of three (transpose, matmul, add): less
    bookkeeping, ∂C/∂W computed directly in W's layout (no transposed copy), and the
    bias added into the product's fresh buffer. ``x`` may have any leading batch axes.
    """

    @staticmethod
    def forward(ctx: Any, x: Any, W: Any, b: Any = None) -> Any:
        x, W = np.asanyarray(x), np.asanyarray(W)
        if W.ndim != 2 or x.ndim == 0 or x.shape[-1] != W.shape[1]:
            raise ValueError(
                f"linear: input of shape {x.shape} does not fit weight of shape {W.shape}; "
                "expected input (..., in_features) and weight (out_features, in_features)"
            )
        z = product(np.matmul, x, W.T)
        if b is not None:
            # (an array b of z's dtype is the usual case: decided without numpy's promotion rules)
            keeps_dtype = b.dtype == z.dtype if type(b) is np.ndarray else np.result_type(z, b) == z.dtype
            if keeps_dtype and np.shape(b) in ((), (1,), (W.shape[0],)):
                z += b  # z is ours: add in place, one buffer fewer than x @ W.T + b
            else:
                z = z + b  # b widens z's dtype or shape: numpy's rules decide
        ctx.save_for_backward(x, W)
        return z

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        x, W = ctx.saved_tensors
        need_x, need_W = ctx.needs_input_grad[:2]
        grad_x = product(ctx.xp.matmul, grad, W) if need_x else None
        grad_W = None
        if need_W:
            # every batch row contributes δzᵀ x: fold the batch axes into one
            rows = grad.reshape(-1, W.shape[0])
            grad_W = product(ctx.xp.matmul, rows.T, x.reshape(-1, W.shape[1]))
        if len(ctx.needs_input_grad) == 2:
            return grad_x, grad_W
        return grad_x, grad_W, grad  # δb: the engine sums δz over the broadcast axes
