"""ModuleList, ModuleDict, ParameterList, ParameterDict, Flatten and Unflatten: list and dict
behaviour checked against Python's own list/dict, state_dict keys against torch's for the
same structure, reshapes against numpy."""

from __future__ import annotations

import numpy as np
import pytest

import autograd_nn as ag
from autograd_nn import nn


def _names(modules):
    return [type(m).__name__ for m in modules]


# ------------------------------------------------------------------ ModuleList
def test_module_list_behaves_like_a_list_of_its_modules():
    a, b, c, d = nn.Linear(1, 1), nn.Tanh(), nn.ReLU(), nn.Sigmoid()
    layers = nn.ModuleList([a, b])
    mirror = [a, b]
    layers.append(c)
    mirror.append(c)
    layers.extend([d])
    mirror.extend([d])
    layers.insert(1, nn.Identity())
    mirror.insert(1, layers[1])
    layers.insert(-1, nn.Dropout())  # as list.insert: before the last entry
    mirror.insert(-1, layers[-2])
    assert list(layers) == mirror and len(layers) == len(mirror) == 6
    assert layers[-1] is d and layers[0] is a
    assert list(layers[1:5:2]) == mirror[1:5:2] and isinstance(layers[1:3], nn.ModuleList)
    # the names are always 0..n-1, in order, as torch renumbers them
    assert [name for name, _ in layers.named_children()] == [str(i) for i in range(6)]
    del layers[1]
    del mirror[1]
    assert list(layers) == mirror and [k for k, _ in layers.named_children()] == ["0", "1", "2", "3", "4"]
    del layers[::2]
    del mirror[::2]
    assert list(layers) == mirror
    assert layers.pop(0) is mirror.pop(0) and list(layers) == mirror
    layers[0] = b
    assert layers[0] is b
    assert list(layers + nn.ModuleList([a])) == [b, a] and list(layers) == [b]
    layers += [c]
    assert list(layers) == [b, c]


def test_module_list_errors_name_what_was_wrong():
    layers = nn.ModuleList([nn.Tanh()])
    with pytest.raises(IndexError, match="ModuleList index 3 is out of range for 1 entries"):
        layers[3]
    with pytest.raises(TypeError, match="indices must be integers or slices, got str"):
        layers["0"]
    with pytest.raises(TypeError, match=r"item 1 is a builtin_function_or_method, not an nn.Module"):
        layers.append(len)
    with pytest.raises(TypeError, match="extend should be called with an iterable, but got Tanh"):
        layers.extend(nn.Tanh())
    with pytest.raises(NotImplementedError, match="ModuleList has no forward"):
        layers(np.ones(2))
    with pytest.raises(ValueError, match="module cycle"):
        layers.append(layers)


def test_parameters_in_a_module_list_are_trained_and_saved():
    class Tower(nn.Module):
        def __init__(self):
            super().__init__()
            self.blocks = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])

        def forward(self, x):
            for block in self.blocks:
                x = block(x)
            return x

    tower = Tower()
    assert len(list(tower.parameters())) == 6
    tower(np.ones((1, 2))).sum().backward()
    assert all(p.grad is not None for p in tower.parameters())
    assert list(tower.state_dict())[:2] == ["blocks.0.weight", "blocks.0.bias"]


# ------------------------------------------------------------------ ModuleDict
def test_module_dict_behaves_like_a_dict_of_its_modules():
    a, b, c = nn.Linear(1, 1), nn.Tanh(), nn.ReLU()
    heads = nn.ModuleDict({"a": a, "b": b})
    mirror = {"a": a, "b": b}
    heads["c"] = c
    mirror["c"] = c
    heads.update([("d", nn.Identity()), ("a", nn.Sigmoid())])  # pairs; replacing keeps the place
    mirror.update([("d", heads["d"]), ("a", heads["a"])])
    assert list(heads) == list(mirror) == ["a", "b", "c", "d"]
    assert list(heads.keys()) == list(mirror.keys())
    assert list(heads.values()) == list(mirror.values())
    assert list(heads.items()) == list(mirror.items())
    assert "c" in heads and "z" not in heads and len(heads) == 4
    assert heads.pop("b") is mirror.pop("b") and list(heads) == list(mirror)
    del heads["c"]
    del mirror["c"]
    assert list(heads) == list(mirror)
    heads.update(nn.ModuleDict({"e": nn.Tanh()}))
    assert list(heads) == ["a", "d", "e"]
    heads.clear()
    assert len(heads) == 0 and list(heads.parameters()) == []


def test_module_dict_errors_name_what_was_wrong():
    heads = nn.ModuleDict({"a": nn.Tanh()})
    with pytest.raises(KeyError, match=r"no entry 'b'; the keys are \['a'\]"):
        heads["b"]
    with pytest.raises(TypeError, match="entry 'x' is a int, not an nn.Module"):
        heads["x"] = 3
    with pytest.raises(KeyError, match="contain no '.'"):
        heads["x.y"] = nn.Tanh()
    with pytest.raises(ValueError, match="sequence element #0 has length 3; 2 is required"):
        heads.update([("a", nn.Tanh(), 1)])
    with pytest.raises(TypeError, match="should be called with an iterable of key/value pairs, but got int"):
        heads.update(3)
    with pytest.raises(NotImplementedError, match="ModuleDict has no forward"):
        heads()


# -------------------------------------------------------- ParameterList / Dict
def test_parameter_list_registers_its_entries_as_parameters():
    first, second = nn.Parameter(np.ones(2)), nn.Parameter(np.zeros((2, 3)))
    weights = nn.ParameterList([first])
    weights.append(second)
    plain = ag.tensor([1.0, 2.0])
    weights += [plain]
    assert len(weights) == 3 and weights[0] is first and weights[-2] is second
    assert isinstance(weights[2], nn.Parameter) and weights[2].requires_grad
    assert np.shares_memory(weights[2].data, plain.data)  # as torch: the Parameter shares the Tensor's data
    assert list(weights.state_dict()) == ["0", "1", "2"]
    assert list(weights.parameters()) == list(weights)
    assert list(weights[1:]) == [second, weights[2]]
    weights[0] = nn.Parameter(np.full(2, 7.0))
    assert weights[0].data.tolist() == [7.0, 7.0]
    assert "(1): Parameter containing: [float64 of size 2x3]" in repr(weights)
    with pytest.raises(TypeError, match="item 3 is a list, not an nn.Parameter or Tensor"):
        weights.append([1.0])
    with pytest.raises(TypeError, match="extend should be called with an iterable, but got Tensor"):
        weights.extend(ag.tensor([1.0]))
    with pytest.raises(IndexError, match="out of range for 3 entries"):
        weights[3] = nn.Parameter(np.ones(1))


def test_parameter_dict_registers_its_entries_as_parameters():
    scales = nn.ParameterDict({"a": nn.Parameter(np.ones(2))})
    scales["b"] = ag.tensor([0.5])
    scales.update({"c": nn.Parameter(np.zeros(1))})
    assert list(scales) == ["a", "b", "c"] and isinstance(scales["b"], nn.Parameter)
    assert [name for name, _ in scales.named_parameters()] == ["a", "b", "c"]
    assert scales.get("z") is None and scales.get("a") is scales["a"]
    assert list(scales.keys()) == ["a", "b", "c"] and len(list(scales.values())) == 3
    assert [k for k, _ in scales.items()] == ["a", "b", "c"]
    assert scales.pop("a").shape == (2,) and "a" not in scales
    del scales["b"]
    assert list(scales) == ["c"] and len(scales) == 1
    scales.clear()
    assert len(scales) == 0
    with pytest.raises(TypeError, match="entry 'x' is a float, not an nn.Parameter"):
        scales["x"] = 1.0
    with pytest.raises(KeyError, match="no entry 'q'"):
        del scales["q"]


def test_state_dict_keys_are_torchs_for_the_same_structure():
    torch = pytest.importorskip("torch")
    tnn = torch.nn

    def build(lib, param, tensor):
        class Net(lib.Module):
            def __init__(self):
                super().__init__()
                self.stem = lib.Sequential(lib.Linear(3, 4), lib.Flatten())
                self.blocks = lib.ModuleList([lib.Linear(4, 4), lib.ModuleList([lib.Linear(4, 2)])])
                self.heads = lib.ModuleDict({"left": lib.Linear(2, 1), "right": lib.Identity()})
                self.weights = lib.ParameterList([param(tensor(np.ones(2))), param(tensor(np.ones(3)))])
                self.scales = lib.ParameterDict({"alpha": param(tensor(np.ones(1)))})

        return Net()

    ours = build(nn, nn.Parameter, ag.tensor)
    theirs = build(tnn, tnn.Parameter, torch.tensor)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert [n for n, _ in ours.named_modules()] == [n for n, _ in theirs.named_modules()]
    # and the torch weights load into ours unchanged
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})


# ---------------------------------------------------------- Flatten / Unflatten
@pytest.mark.parametrize(
    "shape, start, end, expected",
    [((2, 3, 4, 5), 1, -1, (2, 60)), ((2, 3, 4, 5), 0, 1, (6, 4, 5)), ((2, 3, 4), -2, -1, (2, 12)),
     ((2, 3), 1, 1, (2, 3)), ((), 0, -1, (1,)), ((4,), 0, -1, (4,))],
)  # fmt: skip
def test_flatten_merges_the_axes_from_start_to_end(shape, start, end, expected):
    x = np.arange(int(np.prod(shape))).reshape(shape).astype(float)
    out = nn.Flatten(start, end)(ag.tensor(x, requires_grad=True))
    assert out.shape == expected
    np.testing.assert_array_equal(out.numpy().ravel(), x.ravel())
    out.sum().backward()


def test_flatten_and_unflatten_errors_and_gradients():
    with pytest.raises(IndexError, match=r"start_dim=1 is out of range for an input with 1 dimension\(s\)"):
        nn.Flatten()(np.ones(3))
    with pytest.raises(ValueError, match="start_dim=2 comes after end_dim=1"):
        nn.Flatten(2, 1)(np.ones((2, 3, 4)))
    x = ag.tensor(np.arange(24.0).reshape(2, 12), requires_grad=True)
    out = nn.Unflatten(1, (3, -1))(x)
    assert out.shape == (2, 3, 4)
    np.testing.assert_array_equal(out.numpy(), x.numpy().reshape(2, 3, 4))
    (out * ag.tensor(np.arange(24.0).reshape(2, 3, 4))).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.arange(24.0).reshape(2, 12))
    assert nn.Unflatten(-1, (2, 2, 3))(np.ones((5, 12))).shape == (5, 2, 2, 3)
    with pytest.raises(ValueError, match=r"sizes \(5, -1\) don't multiply up to the size of dim 1 \(12\)"):
        nn.Unflatten(1, (5, -1))(np.ones((2, 12)))
    with pytest.raises(ValueError, match=r"sizes \(2, 2\) don't multiply up"):
        nn.Unflatten(1, (2, 2))(np.ones((2, 12)))
    with pytest.raises(ValueError, match="at most one -1"):
        nn.Unflatten(1, (-1, -1))
    assert repr(nn.Flatten()) == "Flatten(start_dim=1, end_dim=-1)"
    assert repr(nn.Unflatten(1, (2, 3))) == "Unflatten(dim=1, unflattened_size=(2, 3))"


def test_flatten_and_unflatten_match_torch():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).normal(size=(2, 3, 4, 5))
    for ours, theirs in [
        (nn.Flatten(), torch.nn.Flatten()),
        (nn.Flatten(0, 2), torch.nn.Flatten(0, 2)),
        (nn.Flatten(-3, -2), torch.nn.Flatten(-3, -2)),
    ]:
        np.testing.assert_array_equal(ours(x).numpy(), theirs(torch.from_numpy(x)).numpy())
    flat = x.reshape(2, 60)
    for dim, sizes in [(1, (3, 4, 5)), (1, (-1, 5)), (-1, (6, 10))]:
        np.testing.assert_array_equal(
            nn.Unflatten(dim, sizes)(flat).numpy(), torch.nn.Unflatten(dim, sizes)(torch.from_numpy(flat)).numpy()
        )
