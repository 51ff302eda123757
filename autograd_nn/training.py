"""The post's bike-sharing network and its training loop, shared by the CLI and examples.

The network: a⁰ = x (56 features), z¹ = a⁰(W¹)ᵀ + b¹, a¹ = σ(z¹), ŷ = z² = a¹(W²)ᵀ + b²
(a linear output), trained on C = mean (ŷ − y)² (``mse_loss``: twice the post's
1/(2n) Σ‖ŷ − y‖², so the same step needs half the post's learning rate).
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import functional as F
from . import nn, optim
from .data import BikeSharing, DataLoader, TensorDataset
from .grad_mode import no_grad
from .tensor import Tensor

OPTIMIZERS = ("sgd", "adam", "adamw")


@dataclass(frozen=True)
class TrainConfig:
    """Hyperparameters of one training run (the CLI's options)."""

    hidden: int = 25
    epochs: int = 40
    batch_size: int = 128
    lr: float = 0.01
    optimizer: str = "adam"
    momentum: float = 0.0
    seed: int = 0
    dtype: str = "float32"

    def __post_init__(self) -> None:
        for name in ("hidden", "epochs", "batch_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"train: {name} must be at least 1, got {getattr(self, name)}")
        if not (self.lr > 0 and math.isfinite(self.lr)):
            raise ValueError(f"train: lr must be a positive finite number, got {self.lr}")
        if not (0 <= self.momentum < 1):
            raise ValueError(f"train: momentum must be in [0, 1), got {self.momentum}")
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"train: optimizer must be one of {', '.join(OPTIMIZERS)}, got {self.optimizer!r}")
        if self.momentum and self.optimizer != "sgd":
            raise ValueError(f"train: momentum applies to sgd only, not {self.optimizer} (its betas play that role)")
        if self.dtype not in ("float32", "float64"):
            raise ValueError(f"train: dtype must be float32 or float64, got {self.dtype!r}")


class TrainingDiverged(FloatingPointError):
    """The loss became NaN or infinite; ``epoch`` and ``batch`` count from 1 (``batch`` is
    None when it was the validation loss)."""

    def __init__(self, epoch: int, batch: int | None, loss: float, lr: float) -> None:
        where = f"batch {batch} of epoch {epoch}" if batch is not None else f"the validation after epoch {epoch}"
        super().__init__(
            f"training diverged: the loss became {loss} at {where} (learning rate {lr:g}); try a smaller learning rate"
        )
        self.epoch, self.batch, self.loss = epoch, batch, loss


@dataclass
class History:
    """Losses per epoch (standardised MSE) and the wall time of training."""

    train: list[float] = field(default_factory=list)
    val: list[float] = field(default_factory=list)
    seconds: float = 0.0


def build_network(n_features: int, hidden: int, *, seed: int = 0, dtype: str = "float32") -> nn.Sequential:
    """56 → hidden (sigmoid) → 1, initialised as the post: W ~ N(0, fan_in^(−½)), b = 0."""
    generator = np.random.default_rng(seed)
    model = nn.Sequential(nn.Linear(n_features, hidden, dtype=dtype), nn.Sigmoid(), nn.Linear(hidden, 1, dtype=dtype))
    for layer in (model[0], model[2]):
        nn.init.lecun_normal_(layer.weight, generator=generator)
        nn.init.zeros_(layer.bias)
    return model


def make_optimizer(model: nn.Module, config: TrainConfig) -> optim.Optimizer:
    """The optimizer ``config`` names, over ``model``'s parameters."""
    if config.optimizer == "sgd":
        return optim.SGD(model.parameters(), lr=config.lr, momentum=config.momentum)
    if config.optimizer == "adam":
        return optim.Adam(model.parameters(), lr=config.lr)
    return optim.AdamW(model.parameters(), lr=config.lr)


def mse(model: nn.Module, X: np.ndarray, y: np.ndarray) -> float:
    """Standardised mean squared error of ``model`` on (X, y), without recording a graph."""
    with no_grad():
        return F.mse_loss(model(Tensor(X)), Tensor(y)).item()


def train(
    model: nn.Module,
    data: BikeSharing,
    config: TrainConfig,
    on_epoch: Callable[[int, float, float], None] | None = None,
    *,
    optimizer: optim.Optimizer | None = None,
) -> tuple[optim.Optimizer, History]:
    """Minibatch training on ``data.train``; validation loss after every epoch.

    The train loss reported for an epoch is the mean of its minibatch losses.
    ``on_epoch(epoch, train_loss, val_loss)`` runs after each completed epoch; pass
    ``optimizer`` to keep a handle on it while training runs (default:
    ``make_optimizer(model, config)``). A NaN or infinite loss (training or validation)
    stops training with ``TrainingDiverged`` before the next step.
    """
    dtype = np.dtype(config.dtype)
    X, y = data.train.X.astype(dtype), data.train.y.astype(dtype)
    X_val, y_val = data.val.X.astype(dtype), data.val.y.astype(dtype)
    loader = DataLoader(TensorDataset(X, y), batch_size=config.batch_size, shuffle=True, seed=config.seed)
    optimizer = make_optimizer(model, config) if optimizer is None else optimizer
    history = History()
    start = time.perf_counter()
    model.train()
    for epoch in range(config.epochs):
        total, batches = 0.0, 0
        for xb, yb in loader:
            optimizer.zero_grad()
            loss = F.mse_loss(model(xb), yb)
            value = loss.item()
            if not math.isfinite(value):
                model.eval()
                raise TrainingDiverged(epoch + 1, batches + 1, value, config.lr)
            loss.backward()
            optimizer.step()
            total += value
            batches += 1
        val_loss = mse(model, X_val, y_val)
        if not math.isfinite(val_loss):
            model.eval()
            raise TrainingDiverged(epoch + 1, None, val_loss, config.lr)
        history.train.append(total / batches)
        history.val.append(val_loss)
        if on_epoch is not None:
            on_epoch(epoch, history.train[-1], history.val[-1])
    history.seconds = time.perf_counter() - start
    model.eval()
    return optimizer, history


def architecture(model: nn.Sequential) -> dict[str, Any]:
    """What ``build_network`` needs to rebuild ``model``: stored in checkpoints."""
    first, last = model[0], model[-1]
    return {
        "network": "bike-sharing mlp",
        "n_features": int(first.in_features),
        "hidden": int(first.out_features),
        "activation": "sigmoid",
        "outputs": int(last.out_features),
        "dtype": str(first.weight.dtype),
    }


def architecture_json(model: nn.Sequential) -> str:
    """``architecture(model)`` as JSON, for a checkpoint's metadata."""
    return json.dumps(architecture(model), sort_keys=True)
