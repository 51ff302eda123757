"""A residual MLP with BatchNorm on two interleaved spirals (made on the spot), and what
changes between training mode and eval mode.

    python examples/batchnorm_residual.py

In training mode each BatchNorm normalises with the statistics of the batch it is given,
so a sample's output depends on the other samples in its batch, and every call updates
the running averages. ``model.eval()`` switches to those running averages: outputs are
then a function of each sample alone and nothing is updated. The script trains the
network (Adam, 40 epochs of batches of 64) and prints its held-out accuracy: 99.5 % of
400 points with seed 0 (seeds 1 and 2: 99.0 %, 98.0 %; tests/app/test_examples_sequence.py
holds seed 0 to ≥ 97 %), in about 2 seconds. Then it shows both behaviours, and the
classic slip: predicting in training mode, 8 samples at a time, drops the accuracy to
≈ 65 % and silently moves the running statistics.
"""

from __future__ import annotations

import numpy as np

import autograd_nn as ag
import autograd_nn.functional as F
from autograd_nn import nn, optim


def spirals(n: int, rng: np.random.Generator, noise: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """Two spirals of n/2 points each, winding 1.5 turns around the origin: (x (n, 2), labels)."""
    labels = np.arange(n) % 2
    radius = rng.uniform(0.1, 1.0, n)
    angle = 3 * np.pi * radius + np.pi * labels
    points = np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1)
    return (points + noise * radius[:, None] * rng.standard_normal((n, 2))) * 3.0, labels


class Block(nn.Module):
    """x + F(x), F = Linear → BatchNorm → ReLU → Linear → BatchNorm, then ReLU."""

    def __init__(self, width: int):
        super().__init__()
        self.fc1, self.bn1 = nn.Linear(width, width), nn.BatchNorm1d(width)
        self.fc2, self.bn2 = nn.Linear(width, width), nn.BatchNorm1d(width)

    def forward(self, x):
        return F.relu(x + self.bn2(self.fc2(F.relu(self.bn1(self.fc1(x))))))


class ResidualMLP(nn.Module):
    def __init__(self, width: int = 64, blocks: int = 2):
        super().__init__()
        self.stem, self.bn = nn.Linear(2, width), nn.BatchNorm1d(width)
        self.blocks = nn.Sequential(*[Block(width) for _ in range(blocks)])
        self.head = nn.Linear(width, 2)

    def forward(self, x):
        return self.head(self.blocks(F.relu(self.bn(self.stem(x)))))


def accuracy(model: nn.Module, x: np.ndarray, y: np.ndarray, batch: int | None = None) -> float:
    batch = batch or len(x)
    with ag.no_grad():
        predicted = np.concatenate([model(x[i : i + batch]).data.argmax(axis=1) for i in range(0, len(x), batch)])
    return float(np.mean(predicted == y))


def main(epochs: int = 40, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    x, y = spirals(2400, rng)
    x_train, y_train, x_test, y_test = x[:2000], y[:2000], x[2000:], y[2000:]
    nn.init.manual_seed(seed)
    model = ResidualMLP()
    optimizer = optim.Adam(model.parameters(), lr=0.01)
    for _ in range(epochs):
        order = rng.permutation(len(x_train))
        for i in range(0, len(order), 64):
            batch = order[i : i + 64]
            optimizer.zero_grad()
            loss = F.cross_entropy(model(x_train[batch]), y_train[batch])
            loss.backward()
            optimizer.step()
    model.eval()
    held_out = accuracy(model, x_test, y_test)
    print(f"held-out accuracy (eval mode): {held_out:.3f} on {len(x_test)} points")

    # One sample, with two different sets of companions; training mode on a copy, since
    # every training-mode call updates the running statistics.
    copy = ResidualMLP()
    copy.load_state_dict(model.state_dict())
    sample, others = x_test[:1], (x_test[1:32], x_test[32:63])
    with ag.no_grad():
        eval_outputs = [model(np.concatenate([sample, o])).data[0] for o in others]
        train_outputs = [copy(np.concatenate([sample, o])).data[0] for o in others]
    eval_gap = float(np.abs(eval_outputs[0] - eval_outputs[1]).max())
    train_gap = float(np.abs(train_outputs[0] - train_outputs[1]).max())
    print(f"a sample's logits with other batch companions: eval mode differs by {eval_gap:.2g}, "
          f"training mode by {train_gap:.2g}")  # fmt: skip

    # The slip: predicting without model.eval(), in batches of 8 (on a fresh copy).
    slipped = ResidualMLP()
    slipped.load_state_dict(model.state_dict())
    before = slipped.bn.running_mean.data.copy()
    train_mode = accuracy(slipped, x_test, y_test, batch=8)
    drift = float(np.abs(slipped.bn.running_mean.data - before).max())
    print(f"predicting in training mode, 8 at a time: accuracy {train_mode:.3f}, and the running mean "
          f"moved by up to {drift:.2g}")  # fmt: skip
    return {"accuracy": held_out, "eval_gap": eval_gap, "train_gap": train_gap, "train_mode_accuracy": train_mode,
            "running_mean_drift": drift, "model": model}  # fmt: skip


if __name__ == "__main__":
    main()
