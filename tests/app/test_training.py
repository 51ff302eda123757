"""The training loop and the post's network (``autograd_nn.training``), checked against the
test's own numpy forward pass and the post's initialisation, not against the library."""

from __future__ import annotations

import math

import numpy as np
import pytest

from autograd_nn.data import synthetic_bike_sharing
from autograd_nn.training import TrainConfig, TrainingDiverged, build_network, make_optimizer, train


def numpy_mse(model, X: np.ndarray, y: np.ndarray) -> float:
    """The post's network in float64 numpy: ŷ = σ(x W¹ᵀ + b¹) W²ᵀ + b², C = mean (ŷ − y)²."""
    W1, b1 = model[0].weight.numpy().astype(np.float64), model[0].bias.numpy().astype(np.float64)
    W2, b2 = model[2].weight.numpy().astype(np.float64), model[2].bias.numpy().astype(np.float64)
    a1 = 1 / (1 + np.exp(-(X @ W1.T + b1)))
    return float(np.mean((a1 @ W2.T + b2 - y) ** 2))


@pytest.fixture(scope="module")
def data():
    return synthetic_bike_sharing(seed=0)


def test_an_epochs_train_loss_is_the_mean_over_its_minibatches(data):
    """With a learning rate too small to move any weight, the mean of the minibatch losses
    of equal-sized batches is the MSE over the whole training set (a last batch's loss is not)."""
    batch = 1416
    assert len(data.train) % batch == 0 and len(data.train) // batch > 2  # equal batches, several of them
    model = build_network(data.n_features, 4, seed=3, dtype="float64")
    config = TrainConfig(hidden=4, epochs=2, batch_size=batch, lr=1e-300, optimizer="sgd", dtype="float64")
    _, history = train(model, data, config)
    expected_train = numpy_mse(model, data.train.X, data.train.y)
    expected_val = numpy_mse(model, data.val.X, data.val.y)
    assert history.train == pytest.approx([expected_train] * 2, rel=1e-10)
    assert history.val == pytest.approx([expected_val] * 2, rel=1e-10)
    assert not math.isclose(expected_train, expected_val, rel_tol=1e-3)  # the two splits are told apart


def test_a_nan_batch_stops_training_before_its_step(data):
    """A non-finite minibatch loss raises TrainingDiverged naming that batch, and the weights
    are those before it: no step was taken with a NaN gradient."""
    poisoned = synthetic_bike_sharing(seed=0)
    poisoned.train.X[7, 0] = np.nan  # one row: the batch that holds it has a NaN loss
    model = build_network(poisoned.n_features, 3, seed=0)
    config = TrainConfig(hidden=3, epochs=1, batch_size=2000, lr=0.01, optimizer="sgd")
    with pytest.raises(TrainingDiverged, match=r"the loss became nan at batch \d+ of epoch 1") as info:
        train(model, poisoned, config)
    assert info.value.epoch == 1 and info.value.batch is not None
    assert all(np.isfinite(p.numpy()).all() for p in model.parameters())


def test_the_network_starts_as_the_post_says():
    """W ~ N(0, 1/fan_in) (PyTorch's default would be U(±1/√fan_in), std 1/√(3 fan_in)), b = 0."""
    model = build_network(56, 2000, seed=0, dtype="float64")
    W1, W2 = model[0].weight.numpy(), model[2].weight.numpy()
    assert W1.shape == (2000, 56) and W2.shape == (1, 2000)
    assert W1.std() == pytest.approx(56**-0.5, rel=0.02)
    assert W2.std() == pytest.approx(2000**-0.5, rel=0.05)
    kurtosis = np.mean((W1 - W1.mean()) ** 4) / W1.var() ** 2 - 3  # 0 for a normal, −1.2 for a uniform
    assert abs(kurtosis) < 0.1
    assert not model[0].bias.numpy().any() and not model[2].bias.numpy().any()


def test_sgd_gets_the_configured_momentum():
    optimizer = make_optimizer(build_network(56, 3), TrainConfig(optimizer="sgd", momentum=0.5))
    assert optimizer.param_groups[0]["momentum"] == 0.5


def test_the_seed_sets_the_order_of_the_minibatches(data):
    """The same initial weights trained with two shuffling seeds end differently; with one
    seed, identically."""
    ends = []
    for seed in (1, 2, 1):
        model = build_network(data.n_features, 3, seed=0)
        train(model, data, TrainConfig(hidden=3, epochs=1, batch_size=4096, lr=0.05, optimizer="sgd", seed=seed))
        ends.append(model[0].weight.numpy().copy())
    np.testing.assert_array_equal(ends[0], ends[2])
    assert not np.allclose(ends[0], ends[1])
