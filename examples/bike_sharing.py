"""The post's bike-sharing regression, written out with nn, optim and the DataLoader.

    python examples/bike_sharing.py                      # built-in synthetic data
    python examples/bike_sharing.py path/to/hour.csv     # the real UCI file

Trains 56 → 25 (sigmoid) → 1 with MSE, prints the losses, then shows the post's δ
recursion on one minibatch: δ^l = ∂C/∂z^l for each layer, as the engine computed it.
"""

from __future__ import annotations

import sys

import numpy as np

import autograd_nn as ag
from autograd_nn import nn, optim
from autograd_nn.data import DataLoader, TensorDataset, load_bike_sharing, synthetic_bike_sharing


def main(path: str | None = None, epochs: int = 20) -> dict[str, float]:
    """Train, check the engine's δ against the post's recursion (raises if they disagree), and
    return the final validation and test MSE and that δ difference."""
    data = synthetic_bike_sharing(seed=0) if path is None else load_bike_sharing(path)
    print(data)
    nn.init.manual_seed(0)
    model = nn.Sequential(nn.Linear(data.n_features, 25), nn.Sigmoid(), nn.Linear(25, 1))
    loss_fn = nn.MSELoss()
    optimizer = optim.Adam(model.parameters(), lr=0.01)
    loader = DataLoader(TensorDataset(data.train.X, data.train.y), batch_size=128, shuffle=True, seed=0)

    for epoch in range(epochs):
        for x, y in loader:
            optimizer.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            optimizer.step()
        with ag.no_grad():
            val = loss_fn(model(ag.tensor(data.val.X)), ag.tensor(data.val.y)).item()
        print(f"epoch {epoch + 1:2d}  last batch {loss.item():.4f}  validation {val:.4f}")

    # The post's recursion on one minibatch: δ² = ∂C/∂ŷ, δ¹ = δ² W² ⊙ σ'(z¹) (rows are examples).
    model.retain_deltas(True)
    x, y = ag.tensor(data.val.X[:128]), ag.tensor(data.val.y[:128])
    loss_fn(model(x), y).backward()
    deltas, activations = model.deltas(), model.activations()
    a1 = activations[1].data
    y_hat = a1 @ model[2].weight.data.T + model[2].bias.data
    by_hand = {2: 2 * (y_hat - y.data) / y.data.size}  # C = mean((ŷ − y)²)
    by_hand[1] = (by_hand[2] @ model[2].weight.data) * a1 * (1 - a1)
    difference = max(
        float(np.abs(deltas[layer].data - by_hand[layer]).max() / np.abs(by_hand[layer]).max()) for layer in (1, 2)
    )
    print(
        f"δ¹ {deltas[1].shape}, δ² {deltas[2].shape}: engine vs hand-derived, max relative difference {difference:.2e}"
    )
    if not difference < 1e-10:  # float64 rounding is ~1e-16; anything larger is a wrong δ
        raise RuntimeError(f"the engine's δ disagree with the hand-derived recursion by {difference:.3g}")

    with ag.no_grad():
        test = loss_fn(model(ag.tensor(data.test.X)), ag.tensor(data.test.y)).item()
    riders = data.unscale(model(ag.tensor(data.test.X[:5])).data)
    print(f"test MSE {test:.4f}; first predictions (riders/hour): {np.round(riders.ravel())}")
    return {"val": val, "test": test, "delta_difference": difference}


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)
