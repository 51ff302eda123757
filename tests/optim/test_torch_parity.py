"""Every optimizer against torch.optim, step for step: the same gradients fed to both (so the
update rule alone is compared, to a few ulps), several parameter groups with their own
options, a parameter that misses a step, the state each keeps, and training a model."""

from __future__ import annotations

import numpy as np
import pytest

import autograd_nn as ag
from autograd_nn import nn, optim

torch = pytest.importorskip("torch")

SHAPES = [(3, 4), (4,), (2, 2)]
STEPS = 12

# name, class, constructor options, options of the second group (the first uses the constructor's)
CASES = [
    ("sgd", "SGD", dict(lr=0.1, momentum=0.9, weight_decay=0.01), dict(nesterov=True, lr=0.05)),
    ("sgd_dampening", "SGD", dict(lr=0.1, momentum=0.5, dampening=0.2), dict(momentum=0.0, maximize=True)),
    ("adam", "Adam", dict(lr=0.01, weight_decay=0.1), dict(amsgrad=True, betas=(0.8, 0.95))),
    ("adamw", "AdamW", dict(lr=0.01, weight_decay=0.3), dict(lr=0.002, maximize=True)),
    ("rmsprop", "RMSprop", dict(lr=0.01), dict(alpha=0.9, eps=1e-6)),
    ("rmsprop_momentum", "RMSprop", dict(lr=0.01, momentum=0.9, weight_decay=0.05), dict(momentum=0.3)),
    ("rmsprop_centered", "RMSprop", dict(lr=0.005, centered=True), dict(centered=True, momentum=0.8, maximize=True)),
    ("rmsprop_mixed", "RMSprop", dict(lr=0.01, centered=True, momentum=0.5), dict(centered=False, momentum=0.0)),
    ("adagrad", "Adagrad", dict(lr=0.1), dict(lr=0.5, eps=1e-6)),
    ("adagrad_decay", "Adagrad", dict(lr=0.1, lr_decay=0.05, weight_decay=0.1, initial_accumulator_value=0.3),
     dict(lr_decay=0.2, maximize=True)),
    ("adamax", "Adamax", dict(lr=0.02), dict(betas=(0.7, 0.9))),
    ("adamax_decay", "Adamax", dict(lr=0.02, weight_decay=0.1, eps=1e-4), dict(maximize=True, lr=0.1)),
    ("nadam", "NAdam", dict(lr=0.01), dict(momentum_decay=0.01, betas=(0.85, 0.99))),
    ("nadam_l2", "NAdam", dict(lr=0.01, weight_decay=0.1), dict(maximize=True)),
    ("nadamw", "NAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True), dict(weight_decay=0.3)),
    # RAdam rectifies once ρₜ > 5: from step 6 with β₂ = 0.999, step 10 with 0.7, step 7 with 0.8, never with 0.6
    ("radam", "RAdam", dict(lr=0.01), dict(betas=(0.3, 0.7))),  # β₁ < 0.5: lerp_'s second formula
    ("radam_l2", "RAdam", dict(lr=0.01, weight_decay=0.1, betas=(0.9, 0.8)), dict(maximize=True)),
    ("radamw", "RAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True, betas=(0.9, 0.6)), dict()),
]  # fmt: skip
IDS = [case[0] for case in CASES]


@pytest.fixture(autouse=True)
def torch_float64():
    """torch keeps scalar state (``step``, NAdam's ``mu_product``) in its default dtype: float64 here."""
    before = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(before)


def _stream(seed=3):
    rng = np.random.default_rng(seed)
    values = [rng.normal(size=s) for s in SHAPES]
    grads = [[rng.normal(size=s) for s in SHAPES] for _ in range(STEPS)]
    grads[2][2] = None  # the last parameter misses step 3: neither library may touch it
    return values, grads


def _run_both(cls, options, second):
    values, grads = _stream()
    ours = [nn.Parameter(v.copy()) for v in values]
    theirs = [torch.nn.Parameter(torch.from_numpy(v.copy())) for v in values]
    ours_opt = getattr(optim, cls)([{"params": ours[:1]}, {"params": ours[1:], **second}], **options)
    theirs_opt = getattr(torch.optim, cls)(
        [{"params": theirs[:1]}, {"params": theirs[1:], **second}], foreach=False, **options
    )
    history = []
    for step_grads in grads:
        for p, q, g in zip(ours, theirs, step_grads):
            p.grad = None if g is None else ag.tensor(g)
            q.grad = None if g is None else torch.from_numpy(g.copy())
        ours_opt.step()
        theirs_opt.step()
        history.append(([p.numpy().copy() for p in ours], [q.detach().numpy().copy() for q in theirs]))
    return ours_opt, theirs_opt, history


@pytest.mark.parametrize("name, cls, options, second", CASES, ids=IDS)
def test_same_gradients_same_updates_as_torch(name, cls, options, second):
    _, _, history = _run_both(cls, options, second)
    for step, (ours, theirs) in enumerate(history, start=1):
        for i, (got, want) in enumerate(zip(ours, theirs)):
            np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-15, err_msg=f"{name}: step {step}, param {i}")
    # and the parameters really moved (a rule that does nothing would pass the comparison only with torch broken)
    assert not np.allclose(history[-1][0][0], _stream()[0][0])


@pytest.mark.parametrize("name, cls, options, second", CASES, ids=IDS)
def test_state_and_groups_are_torchs(name, cls, options, second):
    ours_opt, theirs_opt, _ = _run_both(cls, options, second)
    ours, theirs = ours_opt.state_dict(), theirs_opt.state_dict()
    # SGD without momentum (its second group here) keeps no state, so torch lists only parameter 0
    assert list(ours["state"]) == list(theirs["state"]) == ([0] if name == "sgd_dampening" else [0, 1, 2])
    for index, state in theirs["state"].items():
        assert sorted(ours["state"][index]) == sorted(state), f"{name}: state keys of parameter {index}"
        for key, value in state.items():
            np.testing.assert_allclose(np.asarray(ours["state"][index][key]), value.numpy(), rtol=1e-13, atol=1e-15)
    if cls != "SGD":  # SGD counts no steps
        assert ours["state"][2]["step"] == STEPS - 1  # it missed one step
    implementation_only = {"foreach", "capturable", "differentiable", "fused"}  # torch's knobs, not options here
    for ours_group, theirs_group in zip(ours["param_groups"], theirs["param_groups"]):
        assert set(ours_group) == set(theirs_group) - implementation_only
        for key, value in ours_group.items():
            assert value == (tuple(theirs_group[key]) if key == "betas" else theirs_group[key]), key


@pytest.mark.parametrize("name, cls, options, second", CASES, ids=IDS)
def test_torchs_state_loads_into_ours_and_training_continues(name, cls, options, second):
    """A run started in torch resumes here: the state_dict layouts are the same."""
    values, grads = _stream()
    theirs = [torch.nn.Parameter(torch.from_numpy(v.copy())) for v in values]
    theirs_opt = getattr(torch.optim, cls)(
        [{"params": theirs[:1]}, {"params": theirs[1:], **second}], foreach=False, **options
    )
    for step_grads in grads[:5]:
        for q, g in zip(theirs, step_grads):
            q.grad = None if g is None else torch.from_numpy(g.copy())
        theirs_opt.step()
    ours = [nn.Parameter(q.detach().numpy().copy()) for q in theirs]
    ours_opt = getattr(optim, cls)([{"params": ours[:1]}, {"params": ours[1:], **second}], **options)
    ours_opt.load_state_dict(theirs_opt.state_dict())
    for step_grads in grads[5:]:
        for p, q, g in zip(ours, theirs, step_grads):
            p.grad, q.grad = ag.tensor(g), torch.from_numpy(g.copy())
        ours_opt.step()
        theirs_opt.step()
    for p, q in zip(ours, theirs):
        np.testing.assert_allclose(p.numpy(), q.detach().numpy(), rtol=1e-13, atol=1e-15)


def test_adagrad_has_state_before_the_first_step_as_torch():
    values, _ = _stream()
    ours = optim.Adagrad([nn.Parameter(v.copy()) for v in values], initial_accumulator_value=0.25)
    theirs = torch.optim.Adagrad(
        [torch.nn.Parameter(torch.from_numpy(v.copy())) for v in values], initial_accumulator_value=0.25
    )
    ours_state, theirs_state = ours.state_dict()["state"], theirs.state_dict()["state"]
    assert list(ours_state) == list(theirs_state) == [0, 1, 2]
    for index, state in theirs_state.items():
        assert ours_state[index]["step"] == state["step"].item() == 0
        np.testing.assert_array_equal(ours_state[index]["sum"], state["sum"].numpy())


@pytest.mark.parametrize("cls, options", [
    ("RMSprop", dict(lr=0.01, momentum=0.9, centered=True)), ("Adagrad", dict(lr=0.1, lr_decay=0.01)),
    ("Adamax", dict(lr=0.01)), ("NAdam", dict(lr=0.01)), ("RAdam", dict(lr=0.01, weight_decay=0.01)),
])  # fmt: skip
def test_training_a_model_matches_torch(cls, options):
    """Gradients from each library's own backward, updates from its own optimizer, 10 steps."""
    rng = np.random.default_rng(11)
    x, y = rng.normal(size=(16, 3)), rng.normal(size=(16, 2))
    nn.init.manual_seed(11)
    model = nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Linear(5, 2))
    reference = torch.nn.Sequential(torch.nn.Linear(3, 5), torch.nn.Tanh(), torch.nn.Linear(5, 2)).double()
    reference.load_state_dict({k: torch.from_numpy(v.numpy().copy()) for k, v in model.state_dict().items()})
    ours = getattr(optim, cls)(model.parameters(), **options)
    theirs = getattr(torch.optim, cls)(reference.parameters(), foreach=False, **options)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    for _ in range(10):
        ours.zero_grad()
        nn.MSELoss()(model(x), y).backward()
        ours.step()
        theirs.zero_grad()
        torch.nn.functional.mse_loss(reference(xt), yt).backward()
        theirs.step()
    for key, value in reference.state_dict().items():
        np.testing.assert_allclose(model.state_dict()[key].numpy(), value.numpy(), rtol=1e-10, atol=1e-13)


def test_float32_parameters_stay_float32():
    for cls in ("RMSprop", "Adagrad", "Adamax", "NAdam", "RAdam"):
        param = nn.Parameter(np.ones(3, np.float32))
        param.grad = ag.tensor(np.array([0.5, -1.0, 2.0], np.float32))
        opt = getattr(optim, cls)([param], lr=0.1)
        for _ in range(7):
            opt.step()
        assert param.dtype == np.float32, cls
        assert all(v.dtype == np.float32 for v in opt.state[param].values() if isinstance(v, np.ndarray)), cls


def test_optimizer_argument_errors_name_the_option():
    param = nn.Parameter(np.ones(2))
    with pytest.raises(ValueError, match="RMSprop: invalid alpha -0.1"):
        optim.RMSprop([param], alpha=-0.1)
    with pytest.raises(ValueError, match="RMSprop: invalid momentum -1"):
        optim.RMSprop([param], momentum=-1)
    with pytest.raises(ValueError, match="Adagrad: invalid lr_decay -0.5"):
        optim.Adagrad([param], lr_decay=-0.5)
    with pytest.raises(ValueError, match="Adagrad: invalid initial_accumulator_value -1"):
        optim.Adagrad([param], initial_accumulator_value=-1)
    with pytest.raises(ValueError, match=r"Adamax: betas must be two numbers in \[0, 1\)"):
        optim.Adamax([param], betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="NAdam: invalid momentum_decay -0.1"):
        optim.NAdam([param], momentum_decay=-0.1)
    with pytest.raises(ValueError, match="RAdam: betas must be two numbers"):
        optim.RAdam([param], betas=(0.9,))
    with pytest.raises(ValueError, match="RAdam: invalid eps -1"):
        optim.RAdam([param], eps=-1)


def test_named_parameters_give_torchs_param_names():
    nn.init.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1))
    reference = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Tanh(), torch.nn.Linear(3, 1))
    ours = optim.RMSprop(model.named_parameters(), lr=0.1)
    theirs = torch.optim.RMSprop(reference.named_parameters(), lr=0.1)
    assert ours.state_dict()["param_groups"][0]["param_names"] == theirs.state_dict()["param_groups"][0]["param_names"]
