"""The workloads, as data every implementation builds from: shapes, parameters, batches.

All implementations start from the same numpy arrays (PyTorch's layout: W has shape
(out_features, in_features), z = a Wᵀ + b), so one step of each can be compared number
for number before anything is timed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class MLP:
    """A fully connected network trained by one plain SGD step per call."""

    name: str
    sizes: tuple[int, ...]  # input, hidden..., output
    activation: str  # "sigmoid" or "relu", after every hidden layer
    loss: str  # "mse" (PyTorch's mean over elements) or "cross_entropy" (integer labels)
    batch: int
    lr: float = 0.01

    def flops(self) -> int:
        """Multiply-adds ×2 of every matrix product in one step (forward + backward).

        Forward: z = a Wᵀ per layer. Backward: ∂C/∂W = δᵀ a per layer, and δ Wᵀ for
        every layer but the first (nobody needs ∂C/∂x).
        """
        pairs = list(zip(self.sizes[:-1], self.sizes[1:]))
        forward = sum(2 * self.batch * n_in * n_out for n_in, n_out in pairs)
        input_grad = 2 * self.batch * pairs[0][0] * pairs[0][1]
        return 3 * forward - input_grad


# The post's network: 56 features -> 200 sigmoid units -> 1 output, MSE, minibatch 128.
B2 = MLP("B2", (56, 200, 1), "sigmoid", "mse", 128)
# A larger classifier: 784 -> 512 -> 512 -> 10, ReLU, softmax cross-entropy, batch 256.
B3 = MLP("B3", (784, 512, 512, 10), "relu", "cross_entropy", 256)
# B3's network at batch 4096, for peak memory.
B5 = MLP("B5", (784, 512, 512, 10), "relu", "cross_entropy", 4096)

# B1: a chain of small-tensor ops; one cycle is three recorded ops.
CHAIN_SHAPE = (4,)
CHAIN_CYCLES = 33  # 99 recorded ops per forward + backward


def mlp_arrays(
    spec: MLP, dtype: np.dtype, seed: int = 0
) -> tuple[list[tuple[np.ndarray, np.ndarray]], np.ndarray, np.ndarray]:
    """Parameters [(W, b), ...] initialised as PyTorch's nn.Linear, a batch x and targets y."""
    rng = np.random.default_rng(seed)
    params = []
    for n_in, n_out in zip(spec.sizes[:-1], spec.sizes[1:]):
        bound = 1 / np.sqrt(n_in)
        W = rng.uniform(-bound, bound, (n_out, n_in)).astype(dtype)
        b = rng.uniform(-bound, bound, n_out).astype(dtype)
        params.append((W, b))
    x = rng.standard_normal((spec.batch, spec.sizes[0])).astype(dtype)
    if spec.loss == "mse":
        y = rng.standard_normal((spec.batch, spec.sizes[-1])).astype(dtype)
    else:
        y = rng.integers(0, spec.sizes[-1], spec.batch)
    return params, x, y


def chain_arrays(dtype: np.dtype, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """B1/B4's input x, the constants c and d of ``y = tanh(y * c + d)``, and the seed δ."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, CHAIN_SHAPE).astype(dtype)
    c = rng.uniform(0.9, 1.1, CHAIN_SHAPE).astype(dtype)
    d = rng.uniform(-0.1, 0.1, CHAIN_SHAPE).astype(dtype)
    return x, c, d, np.ones(CHAIN_SHAPE, dtype=dtype)
