"""Accuracy of gradcheck's finite-difference schemes, against closed-form derivatives.

For each scheme and step ε, the worst relative error of the numeric derivative over
smooth elementwise functions (exp, tanh, sigmoid, log, sqrt, x³) at 200 random points,
in float64. Run: python3 benchmarks/gradcheck_schemes.py
"""

from __future__ import annotations

import numpy as np

import autograd_nn as ag
from autograd_nn.testing.gradcheck import SCHEMES, _numeric_gradient

rng = np.random.default_rng(0)
FUNCTIONS = {
    # name: (f on Tensors, f' on arrays, domain)
    "exp": (lambda t: t.exp(), np.exp, (-3, 3)),
    "tanh": (lambda t: t.tanh(), lambda x: 1 - np.tanh(x) ** 2, (-3, 3)),
    "sigmoid": (lambda t: t.sigmoid(), lambda x: np.exp(-x) / (1 + np.exp(-x)) ** 2, (-6, 6)),
    "log": (lambda t: t.log(), lambda x: 1 / x, (0.2, 5)),
    "sqrt": (lambda t: t.sqrt(), lambda x: 0.5 / np.sqrt(x), (0.2, 5)),
    "cube": (lambda t: t**3, lambda x: 3 * x**2, (-3, 3)),
}
STEPS = [1e-2, 1e-3, 1e-4, 1e-5, 1e-6, 1e-7, 1e-8]


def worst_relative_error(scheme: str, eps: float) -> float:
    worst = 0.0
    for f, derivative, (lo, hi) in FUNCTIONS.values():
        x = rng.uniform(lo, hi, 200)
        v = np.ones_like(x)  # elementwise: vᵀJ is the derivative itself
        numeric = _numeric_gradient(f, [ag.tensor(x)], 0, [v], eps, SCHEMES[scheme])
        exact = derivative(x)
        worst = max(worst, float(np.max(np.abs(numeric - exact) / np.maximum(np.abs(exact), 1e-3))))
    return worst


def main() -> None:
    print("worst relative error of the numeric derivative (float64)")
    print(f"{'eps':>8} " + " ".join(f"{s:>12}" for s in SCHEMES))
    for eps in STEPS:
        print(f"{eps:8.0e} " + " ".join(f"{worst_relative_error(s, eps):12.2e}" for s in SCHEMES))


if __name__ == "__main__":
    main()
