"""Models built from the layers and ops autograd_nn has today, for the export tests and the
docs: an MLP classifier, a LayerNorm + GELU block, a transformer encoder layer and an
unrolled Elman RNN, each written the way a user would write it."""

from __future__ import annotations

import math

import numpy as np

import autograd_nn as ag
from autograd_nn import nn


def classifier() -> nn.Sequential:
    """The digits MLP: 64 pixels → 32 (ReLU, dropout) → 10 class probabilities."""
    return nn.Sequential(
        nn.Linear(64, 32, dtype="float32"), nn.ReLU(), nn.Dropout(0.25), nn.Linear(32, 10, dtype="float32"),
        nn.Softmax(dim=1),
    )  # fmt: skip


class LayerNorm(nn.Module):
    """(x − mean) / √(var + ε) · γ + β over the last axis."""

    def __init__(self, width: int, eps: float = 1e-5):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(np.linspace(0.5, 1.5, width, dtype=np.float32))
        self.bias = nn.Parameter(np.linspace(-0.2, 0.2, width, dtype=np.float32))

    def forward(self, x):
        centred = x - x.mean(axis=-1, keepdims=True)
        variance = (centred * centred).mean(axis=-1, keepdims=True)
        return centred / (variance + self.eps).sqrt() * self.weight + self.bias


def gelu(x):
    """GELU, tanh approximation: ½x(1 + tanh(√(2/π)(x + 0.044715x³)))."""
    return 0.5 * x * (1 + ag.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))


class NormGelu(nn.Module):
    """Linear → LayerNorm → GELU."""

    def __init__(self, n_in: int = 16, width: int = 24):
        super().__init__()
        self.linear = nn.Linear(n_in, width, dtype="float32")
        self.norm = LayerNorm(width)

    def forward(self, x):
        return gelu(self.norm(self.linear(x)))


class EncoderLayer(nn.Module):
    """A post-norm transformer encoder layer: multi-head self-attention, then a ReLU
    feed-forward block, each with a residual connection and LayerNorm."""

    def __init__(self, width: int = 16, heads: int = 4, hidden: int = 32):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(width, 3 * width, dtype="float32")
        self.out = nn.Linear(width, width, dtype="float32")
        self.norm1, self.norm2 = LayerNorm(width), LayerNorm(width)
        self.ff1, self.ff2 = nn.Linear(width, hidden, dtype="float32"), nn.Linear(hidden, width, dtype="float32")

    def forward(self, x):
        batch, steps, width = x.shape
        size = width // self.heads
        qkv = self.qkv(x).reshape(batch, steps, 3, self.heads, size).transpose(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]  # (batch, heads, steps, size)
        weights = (q @ k.swapaxes(-1, -2) / math.sqrt(size)).softmax(axis=-1)
        attended = (weights @ v).transpose(0, 2, 1, 3).reshape(batch, steps, width)
        x = self.norm1(x + self.out(attended))
        return self.norm2(x + self.ff2(self.ff1(x).relu()))


class ElmanRNN(nn.Module):
    """h_t = tanh(W_ih x_t + W_hh h_(t−1)), from h_0 = 0; returns every h_t and the last."""

    def __init__(self, n_in: int = 5, hidden: int = 7):
        super().__init__()
        self.hidden = hidden
        self.ih = nn.Linear(n_in, hidden, dtype="float32")
        self.hh = nn.Linear(hidden, hidden, bias=False, dtype="float32")

    def forward(self, x):
        h = ag.tensor(np.zeros((x.shape[0], self.hidden), dtype=np.float32))  # follows the batch size
        states = []
        for t in range(x.shape[1]):
            h = (self.ih(x[:, t]) + self.hh(h)).tanh()
            states.append(h)
        return ag.stack(states, axis=1), h


class PositionalLinear(nn.Module):
    """x + pe[:steps] (a buffer sliced to the input's length), then a Linear whose weight is frozen."""

    def __init__(self, width: int = 8, longest: int = 50):
        super().__init__()
        positions = np.arange(longest)[:, None] / 10_000 ** (np.arange(width)[None, :] / width)
        self.register_buffer("pe", ag.tensor(np.sin(positions).astype(np.float32)))
        self.linear = nn.Linear(width, width, dtype="float32")
        self.linear.weight.requires_grad_(False)

    def forward(self, x):
        return self.linear(x + self.pe[: x.shape[1]])
