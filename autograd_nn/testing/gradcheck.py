"""Finite-difference checks of first and second derivatives."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..tensor import Tensor, grad


class GradcheckError(AssertionError):
    """An analytic gradient disagrees with finite differences."""


def _outputs(fn: Callable[..., Any], inputs: Sequence[Any]) -> list[Tensor]:
    out = fn(*inputs)
    outs = list(out) if isinstance(out, (tuple, list)) else [out]
    return [o if isinstance(o, Tensor) else Tensor(o) for o in outs]


def _objective(fn: Callable[..., Any], inputs: Sequence[Any], cotangents: list[np.ndarray]) -> float:
    """L = Σₖ ⟨vₖ, outₖ⟩: a scalar whose gradient is the vector-Jacobian product."""
    outs = _outputs(fn, inputs)  # grad mode stays on: fn may itself differentiate
    return float(sum(np.sum(v * o.data.astype(np.float64)) for v, o in zip(cotangents, outs)))


def _numeric_gradient(
    fn: Callable[..., Any], inputs: Sequence[Any], index: int, cotangents: list[np.ndarray], eps: float
) -> np.ndarray:
    array = inputs[index].data
    numeric = np.zeros(array.shape, dtype=np.float64)
    flat = array.reshape(-1)  # a view: perturbing it perturbs the input
    for j in range(flat.size):
        original = flat[j]
        flat[j] = original + eps
        plus = _objective(fn, inputs, cotangents)
        flat[j] = original - eps
        minus = _objective(fn, inputs, cotangents)
        flat[j] = original
        numeric.reshape(-1)[j] = (plus - minus) / (2 * eps)
    return numeric


def gradcheck(
    fn: Callable[..., Any],
    inputs: Sequence[Any],
    *,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
    seed: int = 0,
) -> bool:
    """Check ∂fn/∂input for every input that requires grad against central differences.

    ``fn(*inputs)`` may return any shape (or a tuple of tensors): the check uses a random
    cotangent v and compares vᵀJ computed by backward with (L(x + εeⱼ) − L(x − εeⱼ)) / 2ε
    for every element j, where L = ⟨v, fn(x)⟩. Returns True when every element agrees
    within ``atol + rtol·|numeric|``; otherwise raises ``GradcheckError`` naming the input,
    the worst elements and both values (or returns False if ``raise_exception=False``).
    """
    inputs = list(inputs)
    checked = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input requires grad")
    for i in checked:
        if inputs[i].dtype != np.float64:
            warnings.warn(
                f"gradcheck: input {i} is {inputs[i].dtype}; finite differences need float64 to be trustworthy",
                stacklevel=2,
            )
    rng = np.random.default_rng(seed)
    outs = _outputs(fn, inputs)
    cotangents = [rng.standard_normal(o.shape) for o in outs]
    differentiable = [(o, v) for o, v in zip(outs, cotangents) if o.requires_grad]
    if differentiable:
        analytic = grad(
            [o for o, _ in differentiable],
            [inputs[i] for i in checked],
            grad_outputs=[np.asarray(v, dtype=o.dtype) for o, v in differentiable],
            allow_unused=True,
        )
    else:
        analytic = (None,) * len(checked)
    for i, g in zip(checked, analytic):
        got = np.zeros(inputs[i].shape) if g is None else g.data.astype(np.float64)
        expected = _numeric_gradient(fn, inputs, i, cotangents, eps)
        error = np.abs(got - expected)
        bad = error > atol + rtol * np.abs(expected)
        if bad.any():
            message = _report(i, got, expected, error, bad)
            if raise_exception:
                raise GradcheckError(message)
            return False
    return True


def _report(index: int, got: np.ndarray, expected: np.ndarray, error: np.ndarray, bad: np.ndarray) -> str:
    relative = error / np.maximum(np.abs(expected), 1e-300)
    lines = [
        f"gradcheck: the gradient of input {index} (shape {got.shape}) disagrees with finite "
        f"differences at {int(bad.sum())} of {bad.size} element(s); "
        f"max abs error {error.max():.3g}, max rel error {relative[bad].max():.3g}"
    ]
    for flat in np.argsort(-error, axis=None)[:5]:
        element = np.unravel_index(flat, got.shape) if got.shape else ()
        if not bad[element]:
            break
        lines.append(
            f"  element {tuple(int(e) for e in element)}: analytic {got[element]:.10g}, numeric {expected[element]:.10g}"
        )
    return "\n".join(lines)


def gradgradcheck(
    fn: Callable[..., Any],
    inputs: Sequence[Any],
    *,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
    seed: int = 0,
) -> bool:
    """Check second derivatives: gradcheck of x ↦ vᵀ ∂fn/∂x computed with create_graph."""
    inputs = list(inputs)
    checked = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    rng = np.random.default_rng(seed + 1)
    outs = _outputs(fn, inputs)
    cotangents = [Tensor(rng.standard_normal(o.shape).astype(o.dtype)) for o in outs]

    def first_derivative(*xs: Any) -> tuple[Tensor, ...]:
        ys = [y for y in _outputs(fn, xs)]
        pairs = [(y, v) for y, v in zip(ys, cotangents) if y.requires_grad]
        grads = grad(
            [y for y, _ in pairs],
            [xs[i] for i in checked],
            grad_outputs=[v for _, v in pairs],
            create_graph=True,
            allow_unused=True,
        )
        return tuple(g if g is not None else Tensor(np.zeros(xs[i].shape)) for i, g in zip(checked, grads))

    return gradcheck(
        first_derivative, inputs, eps=eps, atol=atol, rtol=rtol, raise_exception=raise_exception, seed=seed
    )
