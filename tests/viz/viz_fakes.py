"""A tiny stand-in for ``nn`` with PyTorch's API, built from core Tensors, so the model
view can be tested before ``autograd_nn.nn`` exists (and independently of it)."""

from __future__ import annotations

import numpy as np

import autograd_nn as ag


class Module:
    def named_parameters(self):
        for name, value in vars(self).items():
            if isinstance(value, ag.Tensor) and value.requires_grad:
                yield name, value
            elif isinstance(value, Module):
                for sub, p in value.named_parameters():
                    yield f"{name}.{sub}", p

    def __call__(self, x):
        return self.forward(x)


class Linear(Module):
    def __init__(self, in_features: int, out_features: int, rng: np.random.Generator):
        bound = 1 / np.sqrt(in_features)
        self.weight = ag.tensor(rng.uniform(-bound, bound, (out_features, in_features)), requires_grad=True)
        self.bias = ag.tensor(rng.uniform(-bound, bound, out_features), requires_grad=True)

    def forward(self, x):
        return x @ self.weight.T + self.bias


class Sigmoid(Module):
    def forward(self, x):
        return ag.sigmoid(x)


class Tanh(Module):
    def forward(self, x):
        return ag.tanh(x)


class Sequential(Module):
    def __init__(self, *layers):
        self.layers = list(layers)

    def __iter__(self):
        return iter(self.layers)

    def children(self):
        return iter(self.layers)

    def named_parameters(self):
        for i, layer in enumerate(self.layers):
            for name, p in layer.named_parameters():
                yield f"{i}.{name}", p

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x


def bike_network(hidden: int = 200, seed: int = 0):
    """The post's network 56 → hidden (sigmoid) → 1, and a batch of random data."""
    rng = np.random.default_rng(seed)
    model = Sequential(Linear(56, hidden, rng), Sigmoid(), Linear(hidden, 1, rng))
    x = rng.normal(size=(128, 56))
    y = rng.normal(size=(128, 1))
    return model, x, y
