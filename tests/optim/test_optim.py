"""optim: every update rule against hand-written numpy formulas (always) and torch.optim
(when torch is installed), state_dict round trips, schedulers, errors."""

from __future__ import annotations

import math

import numpy as np
import pytest

import autograd_nn as ag
from autograd_nn import nn, optim

SHAPES = [(3, 4), (4,)]
STEPS = 6


def gradient_stream(seed=0):
    """A fixed sequence of gradients per step, so the optimizer is tested on its own."""
    rng = np.random.default_rng(seed)
    return [[rng.normal(size=s) for s in SHAPES] for _ in range(STEPS)]


def initial_values(seed=1):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=s) for s in SHAPES]


def run_ours(make, grads, values):
    params = [nn.Parameter(v.copy()) for v in values]
    opt = make(params)
    history = []
    for step_grads in grads:
        for p, g in zip(params, step_grads):
            p.grad = ag.tensor(g)
        opt.step()
        history.append([p.numpy().copy() for p in params])
    return history


# --------------------------------------------------- independent references
def sgd_reference(values, grads, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False, maximize=False):
    """PyTorch's documented SGD algorithm, one parameter at a time, in plain numpy."""
    thetas = [v.copy() for v in values]
    buffers = [None] * len(values)
    history = []
    for t, step_grads in enumerate(grads, start=1):
        for i, g in enumerate(step_grads):
            g = -g if maximize else g.copy()
            g = g + weight_decay * thetas[i]
            if momentum:
                buffers[i] = g.copy() if t == 1 else momentum * buffers[i] + (1 - dampening) * g
                g = g + momentum * buffers[i] if nesterov else buffers[i]
            thetas[i] = thetas[i] - lr * g
        history.append([th.copy() for th in thetas])
    return history


def adam_reference(values, grads, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False, decoupled=False):
    """Kingma & Ba's Adam with PyTorch's conventions (L2 or decoupled decay, AMSGrad on v̂)."""
    beta1, beta2 = betas
    thetas = [v.copy() for v in values]
    m = [np.zeros_like(v) for v in values]
    v = [np.zeros_like(x) for x in values]
    v_max = [np.zeros_like(x) for x in values]
    history = []
    for t, step_grads in enumerate(grads, start=1):
        for i, g in enumerate(step_grads):
            if decoupled:
                thetas[i] = thetas[i] * (1 - lr * weight_decay)
            else:
                g = g + weight_decay * thetas[i]
            m[i] = beta1 * m[i] + (1 - beta1) * g
            v[i] = beta2 * v[i] + (1 - beta2) * g**2
            m_hat = m[i] / (1 - beta1**t)
            v_max[i] = np.maximum(v_max[i], v[i])
            v_hat = (v_max[i] if amsgrad else v[i]) / (1 - beta2**t)
            thetas[i] = thetas[i] - lr * m_hat / (np.sqrt(v_hat) + eps)
        history.append([th.copy() for th in thetas])
    return history


SGD_CASES = {
    "plain": dict(lr=0.1),
    "weight_decay": dict(lr=0.1, weight_decay=0.05),
    "momentum": dict(lr=0.05, momentum=0.9),
    "dampening": dict(lr=0.05, momentum=0.9, dampening=0.3, weight_decay=0.01),
    "nesterov": dict(lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.02),
    "maximize": dict(lr=0.05, momentum=0.5, maximize=True),
}
ADAM_CASES = {
    "adam": (optim.Adam, dict(lr=0.01), dict()),
    "adam_l2": (optim.Adam, dict(lr=0.01, weight_decay=0.1), dict(weight_decay=0.1)),
    "adam_amsgrad": (optim.Adam, dict(lr=0.02, betas=(0.8, 0.9), amsgrad=True), dict(betas=(0.8, 0.9), amsgrad=True)),
    "adamw": (optim.AdamW, dict(lr=0.01), dict(weight_decay=0.01, decoupled=True)),
    "adamw_amsgrad": (
        optim.AdamW,
        dict(lr=0.01, weight_decay=0.2, amsgrad=True),
        dict(weight_decay=0.2, amsgrad=True, decoupled=True),
    ),
}


@pytest.mark.parametrize("case", SGD_CASES)
def test_sgd_matches_hand_written_numpy(case):
    options = SGD_CASES[case]
    grads, values = gradient_stream(), initial_values()
    ours = run_ours(lambda ps: optim.SGD(ps, **options), grads, values)
    reference = sgd_reference(values, grads, **options)
    for got_step, want_step in zip(ours, reference):
        for got, want in zip(got_step, want_step):
            np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("case", ADAM_CASES)
def test_adam_and_adamw_match_hand_written_numpy(case):
    cls, options, reference_options = ADAM_CASES[case]
    grads, values = gradient_stream(), initial_values()
    ours = run_ours(lambda ps: cls(ps, **options), grads, values)
    reference = adam_reference(values, grads, lr=options["lr"], **reference_options)
    for got_step, want_step in zip(ours, reference):
        for got, want in zip(got_step, want_step):
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)


def test_first_adam_step_is_lr_times_sign():
    """Closed form: after one step m̂ = g and v̂ = g², so θ moves by lr · g / (|g| + ε)."""
    param = nn.Parameter(np.array([1.0, -2.0, 3.0]))
    param.grad = ag.tensor([0.5, -4.0, 1e-3])
    optim.Adam([param], lr=0.1).step()
    expected = np.array([1.0, -2.0, 3.0]) - 0.1 * np.array([0.5, -4.0, 1e-3]) / (np.abs([0.5, -4.0, 1e-3]) + 1e-8)
    np.testing.assert_allclose(param.numpy(), expected, rtol=1e-14)


def test_updates_are_in_place_and_leave_grad_alone():
    for make in (
        lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, weight_decay=0.1, maximize=True),
        lambda ps: optim.Adam(ps, weight_decay=0.1, maximize=True),
        lambda ps: optim.AdamW(ps),
    ):
        param = nn.Parameter(np.ones(3))
        array = param.data
        grad = np.array([1.0, 2.0, 3.0])
        param.grad = ag.tensor(grad)
        opt = make([param])
        opt.step()
        opt.step()
        assert param.data is array
        np.testing.assert_array_equal(param.grad.numpy(), grad)


def test_parameters_without_grad_are_skipped_and_zero_grad():
    a, b = nn.Parameter(np.ones(2)), nn.Parameter(np.ones(2))
    a.grad = ag.tensor([1.0, 1.0])
    opt = optim.SGD([a, b], lr=0.5, momentum=0.9)
    opt.step()
    np.testing.assert_array_equal(b.numpy(), [1.0, 1.0])
    assert b not in opt.state and "momentum_buffer" in opt.state[a]
    opt.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(a.grad.numpy(), [0.0, 0.0])
    opt.zero_grad()
    assert a.grad is None


def test_param_groups_have_their_own_options():
    a, b = nn.Parameter(np.zeros(1)), nn.Parameter(np.zeros(1))
    opt = optim.SGD([{"params": [a]}, {"params": b, "lr": 1.0}], lr=0.1, momentum=0.0)
    a.grad, b.grad = ag.tensor([1.0]), ag.tensor([1.0])
    opt.step()
    assert a.item() == pytest.approx(-0.1) and b.item() == pytest.approx(-1.0)
    assert opt.param_groups[1]["momentum"] == 0.0


def test_training_a_model_reduces_the_loss():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 3))
    y = np.sin(x.sum(axis=1, keepdims=True))
    nn.init.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 16), nn.Tanh(), nn.Linear(16, 1))
    opt = optim.Adam(model.parameters(), lr=0.02)
    loss_fn = nn.MSELoss()
    first = None
    for _ in range(150):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        first = loss.item() if first is None else first
    assert loss.item() < 0.1 * first


# ------------------------------------------------------------ state_dict
@pytest.mark.parametrize(
    "make",
    [
        lambda ps: optim.SGD(ps, lr=0.05, momentum=0.9, nesterov=True),
        lambda ps: optim.Adam(ps, lr=0.01, amsgrad=True),
        lambda ps: optim.AdamW(ps, lr=0.01),
    ],
)
def test_optimizer_state_dict_resumes_exactly(make):
    grads, values = gradient_stream(), initial_values()
    straight = run_ours(make, grads, values)[-1]

    params = [nn.Parameter(v.copy()) for v in values]
    opt = make(params)
    for step_grads in grads[:3]:
        for p, g in zip(params, step_grads):
            p.grad = ag.tensor(g)
        opt.step()
    saved = opt.state_dict()
    assert list(saved["state"]) == [0, 1] and saved["param_groups"][0]["params"] == [0, 1]
    snapshot = {i: {k: np.array(v) for k, v in s.items()} for i, s in saved["state"].items()}
    resumed_params = [nn.Parameter(p.numpy().copy()) for p in params]
    resumed = make(resumed_params)
    resumed.load_state_dict({"state": snapshot, "param_groups": saved["param_groups"]})
    for step_grads in grads[3:]:
        for p, g in zip(resumed_params, step_grads):
            p.grad = ag.tensor(g)
        resumed.step()
    for got, want in zip(resumed_params, straight):
        np.testing.assert_array_equal(got.numpy(), want)


def test_optimizer_load_state_dict_errors():
    a, b = nn.Parameter(np.ones((2, 3))), nn.Parameter(np.ones(3))
    opt = optim.Adam([a, b])
    a.grad, b.grad = ag.tensor(np.ones((2, 3))), ag.tensor(np.ones(3))
    opt.step()
    state = opt.state_dict()
    other = optim.Adam([nn.Parameter(np.ones((2, 3)))])
    with pytest.raises(ValueError, match="group 0 has 2 parameter\\(s\\) in the checkpoint but 1 here"):
        other.load_state_dict(state)
    swapped = optim.Adam([nn.Parameter(np.ones(3)), nn.Parameter(np.ones((2, 3)))])
    with pytest.raises(
        ValueError, match=r"state\[0\]\['exp_avg'\] has shape \(2, 3\) but parameter 0 has shape \(3,\)"
    ):
        swapped.load_state_dict(state)
    assert swapped.state == {}
    with pytest.raises(ValueError, match=r"checkpoint has 1 parameter group\(s\), this optimizer has 2"):
        optim.SGD([{"params": [a]}, {"params": [b]}]).load_state_dict({"state": {}, "param_groups": [{}]})


def test_optimizer_argument_errors():
    param = nn.Parameter(np.ones(2))
    with pytest.raises(ValueError, match="invalid lr -1"):
        optim.SGD([param], lr=-1)
    with pytest.raises(ValueError, match="Nesterov momentum requires"):
        optim.SGD([param], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="betas must be two numbers"):
        optim.Adam([param], betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.Adam([])
    with pytest.raises(TypeError, match="single Tensor"):
        optim.SGD(param)
    with pytest.raises(ValueError, match="leaf tensor with requires_grad=True"):
        optim.SGD([param * 2])
    with pytest.raises(ValueError, match="more than once"):
        optim.SGD([param, param])
    param.grad = ag.tensor(np.ones(3))
    with pytest.raises(ValueError, match=r"has shape \(2,\) but its .grad has shape \(3,\)"):
        optim.SGD([param]).step()


# -------------------------------------------------------------- schedulers
def test_step_lr_closed_form():
    opt = optim.SGD([nn.Parameter(np.ones(1))], lr=0.5)
    scheduler = optim.StepLR(opt, step_size=3, gamma=0.1)
    lrs = [scheduler.get_last_lr()[0]]
    for _ in range(9):
        opt.step()
        scheduler.step()
        lrs.append(opt.param_groups[0]["lr"])
    np.testing.assert_allclose(lrs, [0.5 * 0.1 ** (epoch // 3) for epoch in range(10)], rtol=1e-12)


def test_cosine_lr_closed_form_and_restart():
    opt = optim.SGD([nn.Parameter(np.ones(1))], lr=1.0)
    scheduler = optim.CosineAnnealingLR(opt, T_max=10, eta_min=0.1)
    lrs = [opt.param_groups[0]["lr"]]
    for _ in range(20):
        scheduler.step()
        lrs.append(scheduler.get_last_lr()[0])
    closed = [0.1 + 0.9 * (1 + math.cos(math.pi * epoch / 10)) / 2 for epoch in range(21)]
    np.testing.assert_allclose(lrs, closed, rtol=1e-10, atol=1e-12)


def test_scheduler_state_dict_round_trip():
    def build():
        opt = optim.SGD([nn.Parameter(np.ones(1))], lr=1.0)
        return opt, optim.CosineAnnealingLR(opt, T_max=8)

    opt, scheduler = build()
    for _ in range(3):
        scheduler.step()
    saved_opt, saved = opt.state_dict(), scheduler.state_dict()
    assert saved["last_epoch"] == 3 and saved["T_max"] == 8 and "optimizer" not in saved
    opt2, scheduler2 = build()
    opt2.load_state_dict(saved_opt)
    scheduler2.load_state_dict(saved)
    for _ in range(3):
        scheduler.step()
        scheduler2.step()
    assert scheduler2.get_last_lr() == scheduler.get_last_lr()
    with pytest.raises(ValueError, match="unexpected key 'step_size'"):
        scheduler2.load_state_dict({"step_size": 3})
    with pytest.raises(ValueError, match="T_max must be a positive int"):
        optim.CosineAnnealingLR(opt, T_max=0)


# ------------------------------------------------------------------- torch
TORCH_CASES = [("sgd_" + k, "SGD", v) for k, v in SGD_CASES.items()] + [
    ("adam", "Adam", dict(lr=0.01)),
    ("adam_l2_amsgrad", "Adam", dict(lr=0.01, weight_decay=0.1, amsgrad=True)),
    ("adam_maximize", "Adam", dict(lr=0.01, betas=(0.7, 0.95), maximize=True)),
    ("adamw", "AdamW", dict(lr=0.01, weight_decay=0.3)),
    ("adamw_amsgrad", "AdamW", dict(lr=0.01, amsgrad=True)),
]


@pytest.mark.parametrize("name, cls, options", TORCH_CASES, ids=[c[0] for c in TORCH_CASES])
def test_matches_torch_optim_step_for_step(name, cls, options):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    x, y = rng.normal(size=(16, 3)), rng.normal(size=(16, 2))
    nn.init.manual_seed(5)
    model = nn.Sequential(nn.Linear(3, 4), nn.Sigmoid(), nn.Linear(4, 2))
    reference = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Sigmoid(), torch.nn.Linear(4, 2)).double()
    reference.load_state_dict({k: torch.from_numpy(v.numpy().copy()) for k, v in model.state_dict().items()})
    ours = getattr(optim, cls)(model.parameters(), **options)
    theirs = getattr(torch.optim, cls)(reference.parameters(), foreach=False, **options)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    for _ in range(8):
        ours.zero_grad()
        nn.MSELoss()(model(x), y).backward()
        ours.step()
        theirs.zero_grad()
        torch.nn.functional.mse_loss(reference(xt), yt).backward()
        theirs.step()
        for key, value in reference.state_dict().items():
            np.testing.assert_allclose(model.state_dict()[key].numpy(), value.numpy(), rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize(
    "make",
    [
        lambda o, lib: lib.StepLR(o, step_size=2, gamma=0.5),
        lambda o, lib: lib.CosineAnnealingLR(o, T_max=5, eta_min=0.01),
    ],
)
def test_schedulers_match_torch(make):
    torch = pytest.importorskip("torch")
    ours_opt = optim.SGD([nn.Parameter(np.ones(1))], lr=0.3)
    theirs_opt = torch.optim.SGD([torch.nn.Parameter(torch.ones(1))], lr=0.3)
    ours, theirs = make(ours_opt, optim), make(theirs_opt, torch.optim.lr_scheduler)
    for _ in range(14):
        ours_opt.step()
        theirs_opt.step()
        ours.step()
        theirs.step()
        assert ours.get_last_lr() == pytest.approx(theirs.get_last_lr(), rel=1e-12)


def test_numpy_scalar_hyperparameters_are_accepted():
    """A learning rate computed with numpy (np.float32, np.float64) is a number ≥ 0, not an error."""
    grads, values = gradient_stream(), initial_values()
    ours = run_ours(lambda ps: optim.Adam(ps, lr=np.float32(0.01), betas=(np.float32(0.9), 0.999)), grads, values)
    reference = adam_reference(values, grads, lr=float(np.float32(0.01)), betas=(float(np.float32(0.9)), 0.999))
    np.testing.assert_allclose(ours[-1][0], reference[-1][0], rtol=1e-6)
    optim.SGD([nn.Parameter(np.ones(2))], lr=np.float64(0.1), momentum=np.float32(0.9))
    with pytest.raises(ValueError, match="invalid lr True"):
        optim.SGD([nn.Parameter(np.ones(2))], lr=True)


# -------------------------------------------- first steps in closed form (no torch needed)
G0 = np.array([0.5, -4.0, 1e-3])
THETA0 = np.array([1.0, -2.0, 3.0])


@pytest.mark.parametrize(
    "make, expected",
    [
        # Adagrad: G = g², so θ moves by lr · g / (|g| + ε)
        (lambda ps: optim.Adagrad(ps, lr=0.1), THETA0 - 0.1 * G0 / (np.abs(G0) + 1e-10)),
        # RMSprop: v = (1 − α) g², so θ moves by lr · g / (√(1 − α) |g| + ε)
        (lambda ps: optim.RMSprop(ps, lr=0.1, alpha=0.9), THETA0 - 0.1 * G0 / (np.sqrt(0.1) * np.abs(G0) + 1e-8)),
        # centered RMSprop: ḡ = (1 − α) g, v − ḡ² = (1 − α) α g²
        (lambda ps: optim.RMSprop(ps, lr=0.1, alpha=0.9, centered=True),
         THETA0 - 0.1 * G0 / (np.sqrt(0.09) * np.abs(G0) + 1e-8)),
        # Adamax: m = (1 − β₁) g, u = |g| + ε, step lr / (1 − β₁): θ moves by lr · g / (|g| + ε)
        (lambda ps: optim.Adamax(ps, lr=0.1), THETA0 - 0.1 * G0 / (np.abs(G0) + 1e-8)),
        # RAdam: ρ₁ = 1 ≤ 5, so the first step is plain momentum: θ moves by lr · m̂ = lr · g
        (lambda ps: optim.RAdam(ps, lr=0.1), THETA0 - 0.1 * G0),
        # RAdam with weight decay: g + λθ
        (lambda ps: optim.RAdam(ps, lr=0.1, weight_decay=0.5), THETA0 - 0.1 * (G0 + 0.5 * THETA0)),
        # RAdamW: θ (1 − lr λ) − lr g
        (lambda ps: optim.RAdam(ps, lr=0.1, weight_decay=0.5, decoupled_weight_decay=True),
         THETA0 * (1 - 0.05) - 0.1 * G0),
    ],
    ids=["adagrad", "rmsprop", "rmsprop_centered", "adamax", "radam", "radam_l2", "radamw"],
)  # fmt: skip
def test_first_step_closed_forms(make, expected):
    param = nn.Parameter(THETA0.copy())
    param.grad = ag.tensor(G0)
    make([param]).step()
    np.testing.assert_allclose(param.numpy(), expected, rtol=1e-12)


def test_nadam_first_step_closed_form():
    """t = 1: μ₁, μ₂ from the momentum schedule, Π₁ = μ₁, m = (1 − β₁) g, d = |g| + ε."""
    b1, psi, lr = 0.9, 4e-3, 0.1
    mu1, mu2 = b1 * (1 - 0.5 * 0.96 ** (1 * psi)), b1 * (1 - 0.5 * 0.96 ** (2 * psi))
    d = np.abs(G0) + 1e-8
    expected = THETA0 - lr * (1 - mu1) / (1 - mu1) * G0 / d - lr * mu2 / (1 - mu1 * mu2) * (1 - b1) * G0 / d
    param = nn.Parameter(THETA0.copy())
    param.grad = ag.tensor(G0)
    opt = optim.NAdam([param], lr=lr)
    opt.step()
    np.testing.assert_allclose(param.numpy(), expected, rtol=1e-12)
    assert opt.state[param]["mu_product"] == pytest.approx(mu1, rel=1e-15)


def test_adagrad_lr_decay_and_rmsprop_momentum_second_steps():
    """Two steps with the same g, by hand: Adagrad's η₂ = lr / (1 + lr_decay), G₂ = 2g²;
    RMSprop's b₂ = μ b₁ + g / (√v₂ + ε) with v₂ = (1 − α)(1 + α) g²."""
    param = nn.Parameter(THETA0.copy())
    param.grad = ag.tensor(G0)
    opt = optim.Adagrad([param], lr=0.1, lr_decay=0.5)
    opt.step()
    opt.step()
    first = 0.1 * G0 / (np.abs(G0) + 1e-10)
    second = 0.1 / 1.5 * G0 / (np.sqrt(2) * np.abs(G0) + 1e-10)
    np.testing.assert_allclose(param.numpy(), THETA0 - first - second, rtol=1e-12)

    param = nn.Parameter(THETA0.copy())
    param.grad = ag.tensor(G0)
    opt = optim.RMSprop([param], lr=0.1, alpha=0.9, momentum=0.5)
    opt.step()
    opt.step()
    b1 = G0 / (np.sqrt(0.1) * np.abs(G0) + 1e-8)
    b2 = 0.5 * b1 + G0 / (np.sqrt(0.1 * 1.9) * np.abs(G0) + 1e-8)
    np.testing.assert_allclose(param.numpy(), THETA0 - 0.1 * b1 - 0.1 * b2, rtol=1e-12)
