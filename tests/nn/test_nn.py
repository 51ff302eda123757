"""nn: Module registration and state, layers against hand-written numpy, init, per-layer δ."""

from __future__ import annotations

import math

import numpy as np
import pytest

import autograd_nn as ag
from autograd_nn import functional as F
from autograd_nn import nn


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def post_network(n_in=5, hidden=4, n_out=1):
    nn.init.manual_seed(0)
    return nn.Sequential(nn.Linear(n_in, hidden), nn.Sigmoid(), nn.Linear(hidden, n_out))


class TwoLayer(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(3, 4)
        self.scale = nn.Parameter(np.ones(1))
        self.register_buffer("count", ag.tensor(np.zeros(2)))
        self.register_buffer("scratch", ag.tensor(np.zeros(3)), persistent=False)
        self.out = nn.Linear(4, 2)
        self.not_a_parameter = ag.tensor(np.ones(3))

    def forward(self, x):
        return self.out(F.sigmoid(self.hidden(x))) * self.scale


# ------------------------------------------------------------------ Module
def test_registration_follows_insertion_order_depth_first():
    model = TwoLayer()
    assert [n for n, _ in model.named_parameters()] == [
        "scale",
        "hidden.weight",
        "hidden.bias",
        "out.weight",
        "out.bias",
    ]
    assert list(model.state_dict()) == [
        "scale", "count", "hidden.weight", "hidden.bias", "out.weight", "out.bias",
    ]  # fmt: skip
    assert [n for n, _ in model.named_children()] == ["hidden", "out"]
    assert [n for n, _ in model.named_modules()] == ["", "hidden", "out"]
    assert [n for n, _ in model.named_buffers()] == ["count", "scratch"]
    assert all(isinstance(p, nn.Parameter) for p in model.parameters())
    assert not isinstance(model.not_a_parameter, nn.Parameter)


def test_shared_parameters_and_modules_are_listed_once():
    shared = nn.Linear(2, 2)
    model = nn.Sequential(shared, nn.Tanh(), shared)
    assert len(list(model.parameters())) == 2
    assert [n for n, _ in model.named_modules()] == ["", "0", "1"]
    assert list(model.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]  # as PyTorch


def test_reassignment_moves_between_registries_and_none_clears():
    model = TwoLayer()
    model.hidden = nn.Parameter(np.zeros(2))
    assert "hidden" in model._parameters and "hidden" not in model._modules
    model.scale = None
    assert model.scale is None
    assert "scale" not in dict(model.named_parameters())
    with pytest.raises(TypeError, match="cannot assign a Tensor to parameter 'hidden'"):
        model.hidden = ag.tensor([1.0])
    del model.out
    assert "out" not in model._modules
    with pytest.raises(AttributeError, match="has no attribute 'out'"):
        model.out  # noqa: B018


def test_assigning_before_init_is_a_clear_error():
    class Forgetful(nn.Module):
        def __init__(self):
            self.layer = nn.Linear(1, 1)

    with pytest.raises(AttributeError, match="super\\(\\).__init__\\(\\)"):
        Forgetful()


def test_train_eval_zero_grad_requires_grad():
    model = TwoLayer()
    assert model.training and model.hidden.training
    assert model.eval() is model
    assert not model.training and not model.hidden.training and not model.out.training
    model.train()
    assert model.out.training
    model(np.ones((2, 3))).sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    grads = [p.grad for p in model.parameters()]
    model.zero_grad(set_to_none=False)
    assert all(p.grad is g and not g.data.any() for p, g in zip(model.parameters(), grads))
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())
    model.requires_grad_(False)
    assert not any(p.requires_grad for p in model.parameters())


def test_state_dict_shares_memory_and_round_trips():
    source, target = TwoLayer(), TwoLayer()
    state = source.state_dict()
    assert np.shares_memory(state["hidden.weight"].data, source.hidden.weight.data)
    assert state["hidden.weight"].grad_fn is None and not state["hidden.weight"].requires_grad
    weight_array = target.hidden.weight.data
    result = target.load_state_dict({k: v.numpy().copy() for k, v in state.items()})
    assert result == nn.IncompatibleKeys([], [])
    assert target.hidden.weight.data is weight_array  # copied in place: optimizers keep working
    for key, value in target.state_dict().items():
        np.testing.assert_array_equal(value.numpy(), state[key].numpy())
    x = np.random.default_rng(1).normal(size=(3, 3))
    np.testing.assert_array_equal(source(x).numpy(), target(x).numpy())


def test_load_state_dict_errors_name_the_key_and_change_nothing():
    model = nn.Sequential(nn.Linear(3, 4), nn.Sigmoid(), nn.Linear(4, 1))
    before = {k: v.numpy().copy() for k, v in model.state_dict().items()}
    other = nn.Sequential(nn.Linear(3, 5), nn.Sigmoid(), nn.Linear(5, 1)).state_dict()
    with pytest.raises(RuntimeError, match=r"size mismatch for '0.weight': the checkpoint has shape \(5, 3\), this model has shape \(4, 3\)"):  # fmt: skip
        model.load_state_dict(other)
    partial = {k: v for k, v in model.state_dict().items() if k != "2.bias"}
    with pytest.raises(RuntimeError, match=r"missing key '2.bias' \(shape \(1,\)\)"):
        model.load_state_dict(partial)
    extra = dict(model.state_dict(), **{"4.weight": np.zeros((2, 2))})
    with pytest.raises(RuntimeError, match=r"unexpected key '4.weight' \(shape \(2, 2\)\)"):
        model.load_state_dict(extra)
    assert model.load_state_dict(extra, strict=False) == ([], ["4.weight"])
    assert model.load_state_dict(partial, strict=False).missing_keys == ["2.bias"]
    with pytest.raises(RuntimeError, match="size mismatch"):
        model.load_state_dict(other, strict=False)
    bad = dict(model.state_dict())
    bad["0.bias"] = np.zeros(4, dtype=np.complex128)
    with pytest.raises(RuntimeError, match="dtype mismatch for '0.bias'"):
        model.load_state_dict(bad)
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(value.numpy(), before[key])


def test_repr_matches_pytorch_layout():
    model = nn.Sequential(nn.Linear(56, 8), nn.Sigmoid(), nn.Linear(8, 1, bias=False), nn.Dropout(0.2))
    assert repr(model) == (
        "Sequential(\n"
        "  (0): Linear(in_features=56, out_features=8, bias=True)\n"
        "  (1): Sigmoid()\n"
        "  (2): Linear(in_features=8, out_features=1, bias=False)\n"
        "  (3): Dropout(p=0.2)\n"
        ")"
    )


def test_apply_visits_children_before_parent():
    model = nn.Sequential(nn.Linear(1, 1), nn.Sequential(nn.Tanh()))
    seen = []
    model.apply(lambda m: seen.append(type(m).__name__))
    assert seen == ["Tanh", "Sequential", "Linear", "Sequential"]


# -------------------------------------------------------------- Sequential
def test_sequential_list_api():
    a, b, c = nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)
    model = nn.Sequential(a, b)
    assert len(model) == 2 and list(model) == [a, b] and model[-1] is b
    assert model.append(c) is model and model[2] is c and list(model._modules) == ["0", "1", "2"]
    head = model[1:]
    assert isinstance(head, nn.Sequential) and list(head) == [b, c]
    assert list(head.state_dict()) == ["2.weight", "2.bias"]  # slices keep names, as PyTorch
    del model[0]
    assert list(model._modules) == ["0", "1"] and list(model) == [b, c]
    model.insert(0, a)
    assert list(model) == [a, b, c]
    with pytest.raises(IndexError, match="index 3 is out of range for 3 modules"):
        model[3]  # noqa: B018
    with pytest.raises(TypeError, match="item 1 is a function, not an nn.Module"):
        nn.Sequential(nn.Linear(1, 1), F.relu)
    named = nn.Sequential({"hidden": nn.Linear(2, 2), "act": nn.Tanh()})
    assert list(named.state_dict()) == ["hidden.weight", "hidden.bias"]


def test_linear_and_sequential_forward_match_hand_numpy(rng):
    model = post_network(n_in=5, hidden=4, n_out=2)
    x = rng.normal(size=(7, 5))
    W1, b1 = model[0].weight.numpy(), model[0].bias.numpy()
    W2, b2 = model[2].weight.numpy(), model[2].bias.numpy()
    expected = sigmoid(x @ W1.T + b1) @ W2.T + b2
    np.testing.assert_allclose(model(x).numpy(), expected, rtol=1e-13)
    np.testing.assert_allclose(model[0](x[0]).numpy(), W1 @ x[0] + b1, rtol=1e-13)  # a single sample
    batch = rng.normal(size=(2, 3, 5))
    np.testing.assert_allclose(model[0](batch).numpy(), batch @ W1.T + b1, rtol=1e-13)
    no_bias = nn.Linear(5, 3, bias=False)
    assert no_bias.bias is None and [n for n, _ in no_bias.named_parameters()] == ["weight"]
    np.testing.assert_allclose(no_bias(x).numpy(), x @ no_bias.weight.numpy().T)
    with pytest.raises(
        ValueError, match=r"Linear\(in_features=5, out_features=4, bias=True\): input has shape \(7, 6\)"
    ):
        model[0](np.ones((7, 6)))


def test_linear_dtype_and_default_init_bounds():
    nn.init.manual_seed(3)
    layer = nn.Linear(400, 300, dtype=np.float32)
    assert layer.weight.dtype == np.float32 and layer.bias.dtype == np.float32
    bound = 1 / math.sqrt(400)
    for values in (layer.weight.numpy(), layer.bias.numpy()):
        assert np.abs(values).max() <= bound
        assert np.abs(values).max() > 0.98 * bound  # U(−bound, bound), not narrower
    # uniform: variance bound²/3
    assert abs(layer.weight.numpy().var() / (bound**2 / 3) - 1) < 0.02
    with pytest.raises(TypeError, match="floating-point"):
        nn.Linear(2, 2, dtype=np.int64)
    with pytest.raises(ValueError, match="in_features must be a non-negative int"):
        nn.Linear(2.5, 2)


def test_manual_seed_makes_models_reproducible():
    nn.init.manual_seed(7)
    first = nn.Sequential(nn.Linear(5, 4), nn.Sigmoid(), nn.Linear(4, 1)).state_dict()
    nn.init.manual_seed(7)
    second = nn.Sequential(nn.Linear(5, 4), nn.Sigmoid(), nn.Linear(4, 1)).state_dict()
    for key in first:
        np.testing.assert_array_equal(first[key].numpy(), second[key].numpy())


@pytest.mark.parametrize(
    "fill, expected_std",
    [
        (lambda t, g: nn.init.lecun_normal_(t, generator=g), 1 / math.sqrt(200)),
        (lambda t, g: nn.init.xavier_normal_(t, generator=g), math.sqrt(2 / (200 + 100))),
        (lambda t, g: nn.init.xavier_uniform_(t, generator=g), math.sqrt(6 / 300) / math.sqrt(3)),
        (lambda t, g: nn.init.kaiming_normal_(t, nonlinearity="relu", generator=g), math.sqrt(2 / 200)),
        (lambda t, g: nn.init.kaiming_uniform_(t, nonlinearity="relu", generator=g), math.sqrt(2 / 200)),
        (lambda t, g: nn.init.kaiming_normal_(t, mode="fan_out", nonlinearity="tanh", generator=g), 5 / 3 / 10),
        (lambda t, g: nn.init.normal_(t, 0.0, 0.5, generator=g), 0.5),
    ],
)
def test_init_standard_deviations(fill, expected_std):
    weight = nn.Parameter(np.empty((100, 200)))  # (out, in): fan_in 200, fan_out 100
    returned = fill(weight, np.random.default_rng(0))
    assert returned is weight
    assert abs(weight.numpy().mean()) < 4 * expected_std / math.sqrt(weight.size)
    assert abs(weight.numpy().std() / expected_std - 1) < 0.02  # 20 000 draws: ~0.5 % sampling error
    again = nn.Parameter(np.empty((100, 200)))
    fill(again, np.random.default_rng(0))
    np.testing.assert_array_equal(weight.numpy(), again.numpy())


def test_init_bounds_constants_and_errors():
    weight = nn.Parameter(np.empty((30, 20)))
    nn.init.xavier_uniform_(weight, gain=2.0, generator=np.random.default_rng(1))
    assert np.abs(weight.numpy()).max() <= 2.0 * math.sqrt(6 / 50)
    nn.init.zeros_(weight)
    assert not weight.numpy().any()
    nn.init.ones_(weight)
    assert (weight.numpy() == 1).all()
    nn.init.constant_(weight, 0.25)
    assert (weight.numpy() == 0.25).all()
    assert nn.init.calculate_gain("leaky_relu", 0.2) == pytest.approx(math.sqrt(2 / 1.04))
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        nn.init.xavier_uniform_(nn.Parameter(np.empty(3)))
    with pytest.raises(ValueError, match="unsupported nonlinearity 'swish'"):
        nn.init.calculate_gain("swish")


# ------------------------------------------------------- activations, losses
def test_activation_modules_match_numpy(rng):
    z = rng.normal(size=(4, 3)) * 3
    np.testing.assert_allclose(nn.Sigmoid()(z).numpy(), sigmoid(z), rtol=1e-12)
    np.testing.assert_allclose(nn.ReLU()(z).numpy(), np.maximum(z, 0))
    np.testing.assert_allclose(nn.Tanh()(z).numpy(), np.tanh(z), rtol=1e-12)
    np.testing.assert_allclose(nn.LeakyReLU(0.2)(z).numpy(), np.where(z > 0, z, 0.2 * z))
    e = np.exp(z - z.max(axis=0))
    np.testing.assert_allclose(nn.Softmax(dim=0)(z).numpy(), e / e.sum(axis=0), rtol=1e-12)
    assert nn.Identity(5, any="thing")(z) is z


def test_dropout_train_and_eval():
    x = ag.tensor(np.ones((200, 50)), requires_grad=True)
    drop = nn.Dropout(0.3, generator=np.random.default_rng(0))
    y = drop(x).numpy()
    kept = y != 0
    assert set(np.unique(y)) == {0.0, 1 / 0.7}
    assert abs(kept.mean() - 0.7) < 0.02
    drop.eval()
    assert drop(x) is x
    with pytest.raises(ValueError, match="p must be a probability"):
        nn.Dropout(1.5)


def test_loss_modules_match_formulas(rng):
    y_hat, y = rng.normal(size=(6, 2)), rng.normal(size=(6, 2))
    assert nn.MSELoss()(y_hat, y).item() == pytest.approx(((y_hat - y) ** 2).mean())
    assert nn.MSELoss(reduction="sum")(y_hat, y).item() == pytest.approx(((y_hat - y) ** 2).sum())
    logits, labels = rng.normal(size=(5, 3)), np.array([0, 2, 1, 1, 0])
    log_p = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    assert nn.CrossEntropyLoss()(logits, labels).item() == pytest.approx(-log_p[np.arange(5), labels].mean())
    targets = (rng.random((5, 3)) > 0.5).astype(float)
    p = sigmoid(logits)
    bce = -(targets * np.log(p) + (1 - targets) * np.log(1 - p))
    np.testing.assert_allclose(nn.BCEWithLogitsLoss(reduction="none")(logits, targets).numpy(), bce, rtol=1e-10)
    with pytest.raises(ValueError, match="reduction must be"):
        nn.MSELoss(reduction="avg")


# ----------------------------------------------------------- per-layer δ
def test_deltas_follow_the_posts_recursion(rng):
    """δ^L = (ŷ − y) ⊙ f'(z^L) · 2/n and δ^l = (δ^(l+1) W^(l+1)) ⊙ σ'(z^l), derived by hand."""
    model = nn.Sequential(nn.Linear(5, 4), nn.Sigmoid(), nn.Linear(4, 3), nn.Tanh(), nn.Linear(3, 1))
    model.retain_deltas()
    x, y = rng.normal(size=(8, 5)), rng.normal(size=(8, 1))
    loss = F.mse_loss(model(x), y)
    loss.backward()
    W = {1: model[0].weight.numpy(), 2: model[2].weight.numpy(), 3: model[4].weight.numpy()}
    b = {1: model[0].bias.numpy(), 2: model[2].bias.numpy(), 3: model[4].bias.numpy()}
    z1 = x @ W[1].T + b[1]
    a1 = sigmoid(z1)
    z2 = a1 @ W[2].T + b[2]
    a2 = np.tanh(z2)
    z3 = a2 @ W[3].T + b[3]
    delta3 = 2 * (z3 - y) / y.size  # linear output: f' = 1
    delta2 = (delta3 @ W[3]) * (1 - a2**2)
    delta1 = (delta2 @ W[2]) * a1 * (1 - a1)

    deltas, activations, zs = model.deltas(), model.activations(), model.weighted_inputs()
    assert sorted(deltas) == [1, 2, 3] and sorted(activations) == [0, 1, 2, 3]
    for got, want in ((deltas[1], delta1), (deltas[2], delta2), (deltas[3], delta3)):
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-10, atol=1e-15)
    for got, want in ((activations[0], x), (activations[1], a1), (activations[2], a2), (activations[3], z3)):
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-12)
    np.testing.assert_allclose(zs[2].numpy(), z2, rtol=1e-12)
    # ∂C/∂W^l = (δ^l)ᵀ a^(l−1): the reported values reproduce the gradients
    for layer, linear in ((1, model[0]), (2, model[2]), (3, model[4])):
        expected = deltas[layer].numpy().T @ activations[layer - 1].numpy()
        np.testing.assert_allclose(linear.weight.grad.numpy(), expected, rtol=1e-10, atol=1e-15)


def test_deltas_on_off_and_errors(rng):
    model = post_network()
    with pytest.raises(RuntimeError, match="retain_deltas\\(\\)"):
        model.deltas()
    model.retain_deltas()
    x = rng.normal(size=(3, 5))
    with pytest.raises(RuntimeError, match="no forward has run"):
        model.deltas()
    out = model(x)
    with pytest.raises(RuntimeError, match="no δ yet"):
        model.deltas()
    out.sum().backward()
    assert model.deltas()[2].shape == (3, 1)
    with ag.no_grad():
        model(x)
    with pytest.raises(RuntimeError, match="no_grad"):
        model.deltas()
    model.retain_deltas(False)
    z = model[0](x)
    model(x)
    assert not z.retains_grad
    with pytest.raises(RuntimeError, match="off"):
        model.activations()


def test_pytorch_style_arguments_give_pytorch_results_or_clear_errors():
    a, b = nn.Linear(2, 2), nn.Tanh()
    model = nn.Sequential(a, b)
    assert model[np.int64(1)] is b and model[np.int32(-2)] is a  # numpy integers index, as in PyTorch
    with pytest.raises(TypeError, match="indices must be int or slice, got float"):
        model[1.0]
    with pytest.raises(TypeError, match="indices must be int or slice, got bool"):
        model[True]
    with pytest.raises(TypeError, match="generator must be a numpy.random.Generator, got int"):
        nn.Dropout(0.2, generator=0)


def test_pytorch_inplace_arguments_are_accepted():
    x = ag.tensor([-1.0, 2.0])
    np.testing.assert_array_equal(nn.ReLU(inplace=True)(x).data, [0.0, 2.0])
    np.testing.assert_allclose(nn.LeakyReLU(0.1, inplace=True)(x).data, [-0.1, 2.0])
    assert nn.Dropout(0.2, False).p == 0.2
    np.testing.assert_array_equal(x.data, [-1.0, 2.0])  # never overwritten
