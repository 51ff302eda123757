"""Finite-difference checks of first and second derivatives: ``gradcheck``, ``gradgradcheck``.

Both compare every element of every analytic gradient with finite differences taken in
float64. A random cotangent v turns any output (any shape, or several outputs) into the
scalar L = Σₖ ⟨vₖ, outₖ⟩, whose gradient is the vector-Jacobian product vᵀJ that
backward computes; a wrong Jacobian entry changes vᵀJ with probability one.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..autograd import grad
from ..tensor import Tensor

# Antisymmetric stencils: ∂L/∂xⱼ ≈ Σₖ cₖ·(L(x + kε·eⱼ) − L(x − kε·eⱼ)) / (D·ε), as
# ({k: cₖ}, D). Differences are taken before scaling, so nearly equal values cancel exactly.
SCHEMES: dict[str, tuple[dict[int, int], int]] = {
    # (L(x+ε) − L(x−ε)) / 2ε: error ε²/6 · L‴ plus rounding; two evaluations per element.
    "central": ({1: 1}, 2),
    # (8(L(x+ε) − L(x−ε)) − (L(x+2ε) − L(x−2ε))) / 12ε: error ε⁴/30 · L⁽⁵⁾; four evaluations.
    "five_point": ({1: 8, 2: -1}, 12),
}


class GradcheckError(AssertionError):
    """An analytic derivative disagrees with finite differences."""


class GradcheckWarning(UserWarning):
    """A check that cannot be trusted, e.g. finite differences on float32 inputs."""


def gradcheck(
    fn: Callable[..., Any],
    inputs: Sequence[Any] | Tensor,
    *,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
    seed: int = 0,
    scheme: str = "central",
) -> bool:
    """Check ∂fn/∂x for every input x that requires grad against finite differences.

    ``fn(*inputs)`` may return a Tensor of any shape, or a tuple of them. With a random
    cotangent v (seeded by ``seed``) and L = ⟨v, fn(x)⟩, every element j of every
    checked input must satisfy ``|analytic − numeric| ≤ atol + rtol·|numeric|``, where
    analytic is vᵀJ from backward and numeric is the finite difference of L along eⱼ
    (``scheme="central"``, the default, or ``"five_point"``). Inputs that are not
    Tensors requiring grad are held constant.

    Returns True if all agree. Otherwise raises ``GradcheckError`` naming the input, the
    worst elements with analytic and numeric values, and the max abs/rel error (or
    returns False when ``raise_exception=False``). Warns with ``GradcheckWarning`` for
    inputs less precise than float64, where finite differences are mostly rounding.

    Examples
    --------
    >>> import numpy as np, autograd_nn as ag
    >>> from autograd_nn.testing import gradcheck
    >>> W = ag.tensor(np.random.default_rng(0).standard_normal((3, 2)), requires_grad=True)
    >>> x = ag.tensor([0.5, -1.0])
    >>> gradcheck(lambda W: (W @ x).tanh(), [W])
    True
    """
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    names = [_describe(i, x) for i, x in enumerate(inputs)]
    return _check(
        fn, inputs, names, caller="gradcheck", derivative="the gradient",
        eps=eps, atol=atol, rtol=rtol, raise_exception=raise_exception, seed=seed, scheme=scheme,
    )  # fmt: skip


def gradgradcheck(
    fn: Callable[..., Any],
    inputs: Sequence[Any] | Tensor,
    grad_outputs: Sequence[Any] | None = None,
    *,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
    seed: int = 0,
    scheme: str = "central",
) -> bool:
    """Check second derivatives: ``gradcheck`` of (x, v) ↦ vᵀ ∂fn/∂x built with
    ``create_graph=True``.

    The first derivative is differentiated with respect to every checked input x and
    also to the cotangent v (random unless ``grad_outputs`` is given), so both halves of
    a double backward are covered: how vᵀJ changes with x (the Hessian-vector product)
    and with v (J itself, which a backward must not treat as a constant).

    >>> import autograd_nn as ag
    >>> from autograd_nn.testing import gradgradcheck
    >>> x = ag.tensor([0.3, -1.2, 2.0], requires_grad=True)
    >>> gradgradcheck(lambda x: x.sigmoid() * x, [x])
    True
    """
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    checked = _checked(inputs, "gradgradcheck")
    outs = _outputs(fn, inputs)
    differentiable = [k for k, o in enumerate(outs) if o.requires_grad]
    if grad_outputs is None:
        rng = np.random.default_rng(seed + 1)
        cotangents = [Tensor(rng.standard_normal(outs[k].shape), requires_grad=True) for k in differentiable]
    else:
        grad_outputs = list(grad_outputs)
        if len(grad_outputs) != len(outs):
            raise ValueError(f"gradgradcheck: got {len(grad_outputs)} grad_outputs for {len(outs)} output(s)")
        cotangents = [_as_tensor(grad_outputs[k]) for k in differentiable]
    n = len(inputs)

    def first_derivative(*args: Any) -> tuple[Any, ...]:
        xs, vs = args[:n], args[n:]
        ys = _outputs(fn, xs)
        pairs = [(ys[k], v) for k, v in zip(differentiable, vs) if ys[k].requires_grad]
        if not pairs:
            return tuple(Tensor(np.zeros(xs[i].shape)) for i in checked)
        grads = grad(
            [y for y, _ in pairs],
            [xs[i] for i in checked],
            grad_outputs=[v for _, v in pairs],
            create_graph=True,
            allow_unused=True,
        )
        return tuple(g if g is not None else Tensor(np.zeros(xs[i].shape)) for i, g in zip(checked, grads))

    names = [_describe(i, x) for i, x in enumerate(inputs)]
    names += [f"grad_outputs[{k}] (shape {outs[k].shape})" for k in differentiable]
    return _check(
        first_derivative, inputs + cotangents, names, caller="gradgradcheck",
        derivative="the gradient of vᵀ·∂fn/∂x (a second derivative)",
        eps=eps, atol=atol, rtol=rtol, raise_exception=raise_exception, seed=seed, scheme=scheme,
    )  # fmt: skip


# ------------------------------------------------------------------------ machinery
def _check(
    fn: Callable[..., Any],
    inputs: list[Any],
    names: list[str],
    *,
    caller: str,
    derivative: str,
    eps: float,
    atol: float,
    rtol: float,
    raise_exception: bool,
    seed: int,
    scheme: str,
) -> bool:
    if scheme not in SCHEMES:
        raise ValueError(f"{caller}: unknown scheme {scheme!r}; expected one of {sorted(SCHEMES)}")
    if not eps > 0:
        raise ValueError(f"{caller}: eps must be positive, got {eps}")
    checked = _checked(inputs, caller)
    for i in checked:
        if np.finfo(inputs[i].dtype).eps > np.finfo(np.float64).eps:
            warnings.warn(
                f"{caller}: {names[i]} is {inputs[i].dtype}; finite differences in "
                f"{inputs[i].dtype} are dominated by rounding, so this check cannot be trusted. "
                "Check in float64: tensor(data, dtype=np.float64, requires_grad=True)",
                GradcheckWarning,
                stacklevel=3,
            )
    outs = _outputs(fn, inputs)
    rng = np.random.default_rng(seed)
    cotangents = [rng.standard_normal(o.shape) if _is_float(o) else None for o in outs]
    baseline = _values(fn, inputs)
    for k, (first, again) in enumerate(zip([o.data for o in outs], baseline)):
        if cotangents[k] is not None and not np.array_equal(first, again, equal_nan=True):
            raise GradcheckError(
                f"{caller}: fn is not deterministic: two calls with the same inputs gave different "
                f"output {k}; seed its randomness (e.g. build the rng inside fn) before checking gradients"
            )

    differentiable = [(o, v) for o, v in zip(outs, cotangents) if v is not None and o.requires_grad]
    analytic: tuple[Any, ...] = (None,) * len(checked)
    if differentiable:
        analytic = grad(
            [o for o, _ in differentiable],
            [inputs[i] for i in checked],
            grad_outputs=[np.asarray(v, dtype=o.dtype) for o, v in differentiable],
            allow_unused=True,
        )
    for i, g in zip(checked, analytic):
        x = inputs[i]
        if g is not None and (g.shape != x.shape or g.dtype != x.dtype):
            message = (
                f"{caller}: the gradient for {names[i]} has shape {g.shape} and dtype {g.dtype}; "
                f"expected shape {x.shape} and dtype {x.dtype}"
            )
            if raise_exception:
                raise GradcheckError(message)
            return False
        got = np.zeros(x.shape) if g is None else np.asarray(g.data, dtype=np.float64)
        expected = _numeric_gradient(fn, inputs, i, cotangents, eps, SCHEMES[scheme])
        error = np.abs(got - expected)
        bad = ~(error <= atol + rtol * np.abs(expected))  # NaN anywhere counts as bad
        if bad.any():
            message = _report(caller, derivative, names[i], scheme, got, expected, error, bad, atol, rtol)
            if raise_exception:
                raise GradcheckError(message)
            return False
    return True


def _checked(inputs: Sequence[Any], caller: str) -> list[int]:
    checked = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    if not checked:
        raise ValueError(f"{caller}: no input requires grad; pass tensors made with requires_grad=True")
    return checked


def _describe(index: int, x: Any) -> str:
    if not isinstance(x, Tensor):
        return f"input {index}"
    named = f"{x.name!r}, " if x.name else ""
    return f"input {index} ({named}shape {x.shape})"


def _as_tensor(value: Any) -> Tensor:
    return value if isinstance(value, Tensor) else Tensor(np.asarray(value, dtype=np.float64))


def _is_float(t: Tensor) -> bool:
    return np.issubdtype(t.dtype, np.floating)


def _outputs(fn: Callable[..., Any], inputs: Sequence[Any]) -> list[Tensor]:
    out = fn(*inputs)
    outs = list(out) if isinstance(out, (tuple, list)) else [out]
    return [o if isinstance(o, Tensor) else Tensor(np.asarray(o)) for o in outs]


def _values(fn: Callable[..., Any], inputs: Sequence[Any]) -> list[np.ndarray]:
    """Copies of fn's outputs: an output may alias an input (x ↦ x, or a backward that
    returns δ as is) and change when that input is perturbed next."""
    # Grad mode stays on: fn may itself differentiate (gradgradcheck's first derivative).
    return [np.array(o.data, copy=True) for o in _outputs(fn, inputs)]


def _numeric_gradient(
    fn: Callable[..., Any],
    inputs: Sequence[Any],
    index: int,
    cotangents: list[np.ndarray | None],
    eps: float,
    scheme: tuple[dict[int, int], int],
) -> np.ndarray:
    """∂L/∂x for x = inputs[index], one element at a time, perturbing x in place."""
    weights, denominator = scheme
    x = inputs[index]
    original = x.data
    work = np.array(original, copy=True)  # writable and contiguous, whatever x.data is
    numeric = np.zeros(work.shape, dtype=np.float64)
    x.data = work
    try:
        for element in np.ndindex(work.shape):
            centre = work[element]
            total = 0.0
            for k, coefficient in weights.items():
                work[element] = centre + k * eps
                plus = _values(fn, inputs)
                work[element] = centre - k * eps
                minus = _values(fn, inputs)
                # Subtract outputs elementwise before the dot with v: nearly equal values
                # cancel exactly, which two large sums ⟨v, out⟩ would not.
                total += coefficient * sum(
                    float(np.sum(v * (p.astype(np.float64) - m.astype(np.float64))))
                    for v, p, m in zip(cotangents, plus, minus)
                    if v is not None
                )
            work[element] = centre
            numeric[element] = total / (denominator * eps)
    finally:
        x.data = original
    return numeric


def _report(
    caller: str,
    derivative: str,
    name: str,
    scheme: str,
    got: np.ndarray,
    expected: np.ndarray,
    error: np.ndarray,
    bad: np.ndarray,
    atol: float,
    rtol: float,
) -> str:
    with np.errstate(divide="ignore", invalid="ignore"):
        relative = np.where(expected != 0, error / np.abs(expected), np.where(error == 0, 0.0, np.inf))
    worst = np.where(bad, np.nan_to_num(error, nan=np.inf), -1.0)
    lines = [
        f"{caller}: {derivative} for {name} disagrees with {scheme} finite differences at "
        f"{int(bad.sum())} of {bad.size} element(s) "
        f"(max abs error {np.max(error[bad]):.3g}, max rel error {np.max(relative[bad]):.3g}; "
        f"allowed |analytic − numeric| ≤ {atol:g} + {rtol:g}·|numeric|):"
    ]
    shown = np.argsort(-worst, axis=None, kind="stable")[: min(5, int(bad.sum()))]
    for flat in shown:
        element = tuple(int(e) for e in np.unravel_index(flat, got.shape)) if got.shape else ()
        lines.append(
            f"  element {element}: analytic {got[element]:.10g}, numeric {expected[element]:.10g} "
            f"(abs error {error[element]:.3g}, rel error {relative[element]:.3g})"
        )
    if bad.sum() > len(shown):
        lines.append(f"  ... and {int(bad.sum()) - len(shown)} more")
    return "\n".join(lines)
