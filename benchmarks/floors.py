"""Hand-written numpy: the floors autograd_nn is measured against.

The MLP step is the post's backpropagation equations, vectorised over the minibatch
(rows are examples, so z^l = a^(l-1) W^lᵀ + b^l):

    δ^L = ∂C/∂z^L                         (MSE: 2(ŷ − y)/n;  softmax CE: (softmax(z) − onehot)/n)
    ∂C/∂W^l = δ^lᵀ a^(l-1),   ∂C/∂b^l = Σ_rows δ^l
    δ^(l-1) = (δ^l W^l) ⊙ σ'(z^(l-1))      (σ' from the stored activation: a(1 − a), or [a > 0])

written the way a careful person writes it by hand: each activation kept once, the loss
computed (as any training loop does), parameters updated in place.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from specs import CHAIN_CYCLES, MLP


def mlp_step(
    spec: MLP, params: list[tuple[np.ndarray, np.ndarray]], x: np.ndarray, y: np.ndarray, outer: bool = False
) -> Callable[[], float]:
    """One SGD step (forward, loss, δ recursion, in-place update); updates ``params``.

    ``outer=True``: δ W for a one-unit layer (an outer product) is written ``delta * W``,
    as autograd_nn computes it, instead of the post's ``delta @ W`` (a depth-1 GEMM)."""
    sigmoid = spec.activation == "sigmoid"
    last = len(params) - 1
    lr = spec.lr
    rows = np.arange(spec.batch)

    def step() -> float:
        activations = [x]
        a = x
        for layer, (W, b) in enumerate(params):
            z = a @ W.T + b
            if layer < last:
                a = 1 / (1 + np.exp(-z)) if sigmoid else np.maximum(z, 0)
                activations.append(a)
        # δ^L and the cost C
        if spec.loss == "mse":
            error = z - y
            loss = float(np.mean(error * error))
            delta = error * (2 / error.size)
        else:
            shifted = z - z.max(axis=1, keepdims=True)
            e = np.exp(shifted)
            total = e.sum(axis=1, keepdims=True)
            loss = float(np.mean(np.log(total[:, 0]) - shifted[rows, y]))
            delta = e / total
            delta[rows, y] -= 1
            delta /= spec.batch
        for layer in range(last, -1, -1):
            W, b = params[layer]
            a = activations[layer]
            grad_W = delta.T @ a
            grad_b = delta.sum(axis=0)
            if layer > 0:
                delta = delta * W if outer and W.shape[0] == 1 else delta @ W
                delta *= a * (1 - a) if sigmoid else a > 0
            W -= lr * grad_W
            b -= lr * grad_b
        return loss

    return step


def gemm_step(spec: MLP, dtype: np.dtype) -> Callable[[], None]:
    """Only the matrix products of one MLP step, same shapes: the BLAS ceiling."""
    rng = np.random.default_rng(1)
    pairs = list(zip(spec.sizes[:-1], spec.sizes[1:]))
    acts = [rng.standard_normal((spec.batch, n_in)).astype(dtype) for n_in, _ in pairs]
    deltas = [rng.standard_normal((spec.batch, n_out)).astype(dtype) for _, n_out in pairs]
    weights = [rng.standard_normal((n_out, n_in)).astype(dtype) for n_in, n_out in pairs]

    def step() -> None:
        for layer in range(len(pairs)):
            acts[layer] @ weights[layer].T
            deltas[layer].T @ acts[layer]
            if layer > 0:
                deltas[layer] @ weights[layer]

    return step


def chain_step(
    x: np.ndarray, c: np.ndarray, d: np.ndarray, seed: np.ndarray, backward: bool = True
) -> Callable[[], np.ndarray]:
    """B1 by hand: y ← tanh(y·c + d), CHAIN_CYCLES times; then δx by the chain rule."""

    def step() -> np.ndarray:
        outputs = []
        y = x
        for _ in range(CHAIN_CYCLES):
            y = y * c
            y = y + d
            y = np.tanh(y)
            outputs.append(y)
        if not backward:
            return y
        g = seed
        for a in reversed(outputs):
            g = g * (1 - a * a)  # tanh' = 1 − a²
            g = g * c  # the add passes δ through unchanged
        return g

    return step
