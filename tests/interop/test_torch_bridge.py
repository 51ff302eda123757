"""``from_torch`` and ``to_torch`` on every layer type both libraries have (the table
``autograd_nn.interop.LAYERS``), checked against PyTorch itself: the same outputs, the
same gradients, the same weights, flags and modes, and the same structure, both ways."""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="the PyTorch parity tests need torch: pip install torch")

import autograd_nn as ag  # noqa: E402
from autograd_nn import nn  # noqa: E402
from autograd_nn.interop import LAYERS, LayerBridge, register_layer  # noqa: E402
from autograd_nn.interop._functions import FUNCTIONS  # noqa: E402
from autograd_nn.interop._zoo import ZOO  # noqa: E402

# One autograd_nn instance per registered layer type, and an input (and a target, for losses).
OURS = {
    "Sequential": lambda: nn.Sequential(OrderedDict(first=nn.Linear(4, 3), act=nn.Tanh())),
    "ModuleList": lambda: nn.ModuleList([nn.Linear(4, 3), nn.Tanh(), nn.Linear(3, 2, bias=False)]),
    "ModuleDict": lambda: nn.ModuleDict(OrderedDict(left=nn.Linear(4, 2), right=nn.Sigmoid())),
    "ParameterList": lambda: nn.ParameterList(
        [nn.Parameter(np.arange(12.0).reshape(4, 3) / 7), nn.Parameter(np.ones(3))]
    ),
    "ParameterDict": lambda: nn.ParameterDict(
        OrderedDict(scale=nn.Parameter(np.full(4, 0.5)), shift=nn.Parameter(np.ones(4)))
    ),
    "Flatten": lambda: nn.Flatten(1, 2),
    "Unflatten": lambda: nn.Unflatten(1, (2, -1)),
    "Linear": lambda: nn.Linear(4, 3),
    "Identity": lambda: nn.Identity(),
    "Sigmoid": lambda: nn.Sigmoid(),
    "Tanh": lambda: nn.Tanh(),
    "ReLU": lambda: nn.ReLU(),
    "LeakyReLU": lambda: nn.LeakyReLU(0.2),
    "Softmax": lambda: nn.Softmax(dim=0),
    "Dropout": lambda: nn.Dropout(0.3),
    "MSELoss": lambda: nn.MSELoss(reduction="sum"),
}
TARGETS = {
    "MSELoss": lambda rng: rng.standard_normal((5, 4)),
}
# Input shapes other than (5, 4), for the layers that reshape.
SHAPES = {"Flatten": (5, 2, 3, 2)}
# The containers have no forward of their own: each is used as a forward would use it
# (the same code runs on a module of either library).
USES = {
    "ModuleList": lambda m, x: m[2](m[1](m[0](x))),
    "ModuleDict": lambda m, x: m["right"](m["left"](x)),
    "ParameterList": lambda m, x: x @ m[0] + m[1],
    "ParameterDict": lambda m, x: x * m["scale"] + m["shift"],
}
BRIDGES = {b.theirs: b for b in LAYERS}
# The nn classes that share a name with a torch.nn class but are no layer to convert.
NOT_LAYERS = {
    "Module": "the base class: a user's subclass has its own forward, which no table can translate",
    "Parameter": "a tensor, carried with the weights of the module that holds it",
    "RNNBase": "the recurrent layers' base class; RNN, LSTM and GRU are the layers",
}
NO_CONVERTER_YET: set[str] = set()  # every other twin has a converter (conv, norm, recurrent, attention: _zoo.py)
ELSEWHERE = {b.theirs for b in ZOO} | {b.theirs for b in FUNCTIONS}  # test_torch_bridge_layers.py, _functions.py


def test_every_registered_layer_is_tested_here():
    assert sorted(OURS) == sorted(set(BRIDGES) - ELSEWHERE)


def test_every_nn_class_torch_also_has_has_a_converter_or_a_reason():
    twins = {name for name in nn.__all__ if isinstance(getattr(nn, name), type) and hasattr(torch.nn, name)}
    assert {"Flatten", "ModuleList", "Linear"} <= twins  # the comparison below is not vacuous
    assert sorted(twins - set(NOT_LAYERS) - NO_CONVERTER_YET) == sorted(name for name in BRIDGES if hasattr(nn, name))
    assert set(NOT_LAYERS) | NO_CONVERTER_YET <= twins and not (set(NOT_LAYERS) | NO_CONVERTER_YET) & set(BRIDGES)


def _pair(name, rng):
    x = rng.standard_normal(SHAPES.get(name, (5, 4)))
    extra = [TARGETS[name](rng)] if name in TARGETS else []
    return x, extra


def _call(module, name, x, extra):
    return USES[name](module, x) if name in USES else module(x, *extra)


def _ours(module, name, x, extra):
    t = ag.tensor(x, requires_grad=True)
    out = _call(module, name, t, [ag.tensor(e) for e in extra])
    out.sum().backward()
    return out.numpy(), t.grad.numpy()


def _theirs(module, name, x, extra):
    t = torch.tensor(x, requires_grad=True)
    out = _call(module, name, t, [torch.tensor(e) for e in extra])
    out.sum().backward()
    return out.detach().numpy(), t.grad.numpy()


def _same_behaviour(ours, theirs, rng, name):
    ours.eval(), theirs.eval()  # dropout: the identity in both
    x, extra = _pair(name, rng)
    out, grad = _ours(ours, name, x, extra)
    want_out, want_grad = _theirs(theirs, name, x, extra)
    assert out.shape == want_out.shape
    np.testing.assert_allclose(out, want_out, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(grad, want_grad, rtol=1e-10, atol=1e-12)
    theirs_grads = {k: p.grad.numpy() for k, p in theirs.named_parameters()}
    ours_grads = {k: p.grad.numpy() for k, p in ours.named_parameters()}
    assert sorted(ours_grads) == sorted(theirs_grads)
    for key, want in theirs_grads.items():
        np.testing.assert_allclose(ours_grads[key], want, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", sorted(OURS))
def test_to_torch_builds_the_same_layer(name, rng):
    ours = OURS[name]()
    theirs = ag.to_torch(ours)
    assert type(theirs) is getattr(torch.nn, name)
    assert sorted(theirs.state_dict()) == sorted(ours.state_dict())
    for key, value in ours.state_dict().items():
        np.testing.assert_array_equal(theirs.state_dict()[key].numpy(), value.numpy())
        assert theirs.state_dict()[key].dtype == torch.float64
    _same_behaviour(ours, theirs, rng, name)


@pytest.mark.parametrize("name", sorted(OURS))
def test_from_torch_builds_the_same_layer(name, rng):
    theirs = ag.to_torch(OURS[name]())  # a torch module of that type, with its settings
    torch.manual_seed(0)
    for param in theirs.parameters():
        param.data.normal_()  # weights of torch's own making
    ours = ag.from_torch(theirs)
    assert type(ours) is BRIDGES[name].ours
    for key, value in theirs.state_dict().items():
        np.testing.assert_array_equal(ours.state_dict()[key].numpy(), value.numpy())
    _same_behaviour(ours, theirs, rng, name)


def test_settings_survive_both_ways():
    ours = nn.Sequential(
        nn.LeakyReLU(0.3), nn.Softmax(dim=0), nn.Dropout(0.4), nn.Linear(3, 2, bias=False), nn.MSELoss("none")
    )
    theirs = ag.to_torch(ours)
    assert (theirs[0].negative_slope, theirs[1].dim, theirs[2].p, theirs[3].bias, theirs[4].reduction) == (
        0.3, 0, 0.4, None, "none"
    )  # fmt: skip
    back = ag.from_torch(theirs)
    assert (back[0].negative_slope, back[1].dim, back[2].p, back[3].bias, back[4].reduction) == (
        0.3,
        0,
        0.4,
        None,
        "none",
    )


def test_reshaping_and_container_settings_survive_both_ways():
    ours = nn.Sequential(
        nn.Flatten(0, -2),
        nn.Unflatten(-1, (3, 1, -1)),
        nn.ModuleDict(OrderedDict(z=nn.Tanh(), a=nn.Linear(2, 2))),
        nn.ParameterDict(OrderedDict(b=nn.Parameter(np.ones((2, 3), dtype=np.float32)), a=nn.Parameter(np.zeros(1)))),
        nn.ParameterList([nn.Parameter(np.arange(3.0)), nn.Parameter(np.ones(2), requires_grad=False)]),
    )
    theirs = ag.to_torch(ours)
    assert (theirs[0].start_dim, theirs[0].end_dim, theirs[1].dim, tuple(theirs[1].unflattened_size)) == (
        0,
        -2,
        -1,
        (3, 1, -1),
    )
    assert list(theirs[2].keys()) == ["z", "a"] and list(theirs[3].keys()) == ["b", "a"]
    assert theirs[3]["b"].dtype == torch.float32 and theirs[3]["a"].dtype == torch.float64
    np.testing.assert_array_equal(theirs[4][0].detach().numpy(), [0.0, 1.0, 2.0])
    assert [p.requires_grad for p in theirs[4]] == [True, False] and len(theirs[4]) == 2
    back = ag.from_torch(theirs)
    assert (back[0].start_dim, back[0].end_dim, back[1].dim, back[1].unflattened_size) == (0, -2, -1, (3, 1, -1))
    assert list(back[2].keys()) == ["z", "a"] and list(back[3].keys()) == ["b", "a"]
    assert back[3]["b"].dtype == np.float32 and [p.requires_grad for p in back[4]] == [True, False]
    np.testing.assert_array_equal(back[4][0].numpy(), [0.0, 1.0, 2.0])


def test_dtypes_requires_grad_and_training_mode_are_carried():
    ours = nn.Sequential(nn.Linear(3, 4, dtype="float32"), nn.ReLU(), nn.Linear(4, 1))
    ours[0].bias.requires_grad_(False)
    ours.train()
    ours[1].eval()
    theirs = ag.to_torch(ours)
    assert theirs[0].weight.dtype == torch.float32 and theirs[2].weight.dtype == torch.float64
    assert theirs[0].weight.requires_grad and not theirs[0].bias.requires_grad
    assert [m.training for m in theirs.modules()] == [True, True, False, True]
    back = ag.from_torch(theirs)
    assert back[0].weight.dtype == np.float32 and back[2].weight.dtype == np.float64
    assert not back[0].bias.requires_grad and [m.training for m in back.modules()] == [True, True, False, True]


def test_the_copy_is_independent_of_the_original():
    ours = nn.Linear(2, 2)
    theirs = ag.to_torch(ours)
    with torch.no_grad():
        theirs.weight.add_(1.0)
    assert not np.allclose(ours.weight.numpy(), theirs.weight.detach().numpy())
    back = ag.from_torch(theirs)
    back.weight.data += 1.0
    assert not np.allclose(back.weight.numpy(), theirs.weight.detach().numpy())


def test_nested_and_shared_modules_keep_their_structure(rng):
    shared = nn.Linear(3, 3)
    ours = nn.Sequential(shared, nn.Sequential(nn.Sigmoid(), shared), nn.Identity())
    theirs = ag.to_torch(ours)
    assert theirs[1][1] is theirs[0]  # still one module, used twice
    assert sorted(theirs.state_dict()) == sorted(ours.state_dict()) == ["0.bias", "0.weight", "1.1.bias", "1.1.weight"]
    back = ag.from_torch(theirs)
    assert back[1][1] is back[0]
    x = rng.standard_normal((2, 3))
    np.testing.assert_allclose(back(x).numpy(), theirs(torch.tensor(x)).detach().numpy(), rtol=1e-12)


def test_a_model_trained_in_pytorch_comes_back_with_its_weights(rng):
    """The path for users who outgrow one machine, and back: ours → torch, a few SGD steps
    there, → ours; both libraries then agree on the trained model."""
    ours = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 1))
    theirs = ag.to_torch(ours)
    x, y = torch.tensor(rng.standard_normal((16, 4))), torch.tensor(rng.standard_normal((16, 1)))
    opt = torch.optim.SGD(theirs.parameters(), lr=0.1)
    for _ in range(5):
        opt.zero_grad()
        torch.nn.functional.mse_loss(theirs(x), y).backward()
        opt.step()
    back = ag.from_torch(theirs)
    assert not np.allclose(back[0].weight.numpy(), ours[0].weight.numpy())
    np.testing.assert_allclose(back(x.numpy()).numpy(), theirs(x).detach().numpy(), rtol=1e-12)


def test_a_module_without_a_counterpart_is_named():
    with pytest.raises(
        TypeError,
        match=r"from_torch: no converter for torch\.nn\.modules\.linear\.Bilinear; the layers with a converter are "
        r"Sequential, .*Flatten.*register_layer",
    ):
        ag.from_torch(torch.nn.Sequential(torch.nn.Bilinear(2, 2, 1)))

    class Custom(nn.Module):
        def forward(self, x):
            return x

    with pytest.raises(TypeError, match=r"to_torch: no converter for test_torch_bridge\..*Custom"):
        ag.to_torch(nn.Sequential(Custom()))
    with pytest.raises(TypeError, match="expected an autograd_nn nn.Module"):
        ag.to_torch(torch.nn.Linear(2, 2))
    with pytest.raises(TypeError, match="expected a torch.nn.Module"):
        ag.from_torch(nn.Linear(2, 2))


@pytest.mark.parametrize(
    "module, message",
    [
        (lambda: torch.nn.Softmax(), "dim=None"),
        (lambda: torch.nn.ParameterList([torch.nn.Parameter(torch.ones(2)), "a string"]), "not parameters"),
        (lambda: torch.nn.ParameterDict({"a": torch.nn.Parameter(torch.ones(2)), "n": 3}), "not parameters"),
    ],
)
def test_settings_autograd_nn_lacks_are_refused(module, message):
    with pytest.raises(TypeError, match=message):
        ag.from_torch(module())


def test_a_new_layer_registers_in_one_line():
    class Tanhshrink(nn.Module):  # a torch layer autograd_nn has no converter for
        def forward(self, x):
            return x - x.tanh()

    bridge = register_layer(Tanhshrink, "Tanhshrink")
    try:
        assert isinstance(bridge, LayerBridge) and LAYERS[-1] is bridge
        back = ag.from_torch(torch.nn.Sequential(torch.nn.Tanhshrink()))
        assert type(back[0]) is Tanhshrink
        assert type(ag.to_torch(back)[0]) is torch.nn.Tanhshrink
        with pytest.raises(ValueError, match="registered already"):
            register_layer(Tanhshrink, "Tanhshrink")
    finally:
        LAYERS.remove(bridge)
    with pytest.raises(TypeError, match="ours must be an nn.Module class"):
        register_layer(int, "Linear")
    with pytest.raises(TypeError, match="theirs must be the name of a torch.nn class"):
        register_layer(Tanhshrink, "torch.nn.Tanhshrink")


def test_a_module_cycle_is_refused_not_followed_forever():
    looped = torch.nn.Sequential(torch.nn.Tanh())
    looped.add_module("again", looped)
    with pytest.raises(RuntimeError, match="a Sequential contains itself"):
        ag.from_torch(looped)
