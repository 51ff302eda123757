"""RNN, LSTM and GRU against PyTorch (same state_dict, float64, rtol 1e-8): every option's
outputs, final states, input, initial-state and parameter gradients; plus the checks that
need no PyTorch (gradcheck through the layers, dropout between layers, refusals)."""

from __future__ import annotations

import numpy as np
import pytest
from parity import compare, torch_module

import autograd_nn as ag
from autograd_nn import functional as F
from autograd_nn import nn
from autograd_nn.testing import gradcheck, gradgradcheck

RNG = np.random.default_rng(7)
CLASSES = ("RNN", "LSTM", "GRU")


def pair(name, *args, **kwargs):
    torch = torch_module()
    torch.manual_seed(0)
    return getattr(nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, dtype=torch.float64, **kwargs)


def states(name, shape):
    """hx for one class: h_0, or (h_0, c_0) for an LSTM."""
    if name == "LSTM":
        return (RNG.standard_normal(shape), RNG.standard_normal(shape))
    return RNG.standard_normal(shape)


def run(module, x, *hx):
    if not hx:
        return module(x)
    return module(x, tuple(hx) if len(hx) == 2 else hx[0])


@pytest.mark.parametrize("name", CLASSES)
@pytest.mark.parametrize(
    "options",
    [{}, {"num_layers": 2}, {"bidirectional": True}, {"num_layers": 3, "bidirectional": True, "batch_first": True},
     {"bias": False}, {"batch_first": True}],
    ids=["plain", "2-layers", "bidirectional", "3-layers-bidirectional-batch-first", "no-bias", "batch-first"],
)  # fmt: skip
def test_recurrent_layers_match_pytorch(name, options):
    ours, theirs = pair(name, 3, 4, **options)
    T, B = 5, 2
    x = RNG.standard_normal((B, T, 3) if options.get("batch_first") else (T, B, 3))
    compare(ours, theirs, [x], call=run)  # zero initial states
    for p, q in zip(ours.parameters(), theirs.parameters()):
        p.grad, q.grad = None, None
    layers = options.get("num_layers", 1) * (2 if options.get("bidirectional") else 1)
    hx = states(name, (layers, B, 4))
    compare(ours, theirs, [x, *(hx if isinstance(hx, tuple) else (hx,))], call=run, load=False)


@pytest.mark.parametrize("name", CLASSES)
def test_unbatched_input_matches_pytorch(name):
    ours, theirs = pair(name, 3, 2, num_layers=2, bidirectional=True)
    hx = states(name, (4, 2))
    compare(ours, theirs, [RNG.standard_normal((6, 3)), *(hx if isinstance(hx, tuple) else (hx,))], call=run)


def test_relu_rnn_matches_pytorch_and_its_parameters_layout():
    ours, theirs = pair("RNN", 2, 3, nonlinearity="relu", num_layers=2)
    compare(ours, theirs, [RNG.standard_normal((4, 3, 2))], call=run)
    assert [(n, p.shape) for n, p in ours.named_parameters()] == [(n, tuple(p.shape)) for n, p in theirs.named_parameters()]
    assert repr(ours) == repr(theirs)


def test_the_initialisation_is_pytorchs_uniform_bound():
    lstm = nn.LSTM(10, 25, num_layers=2, bidirectional=True)
    for name, p in lstm.named_parameters():
        assert np.abs(p.data).max() <= 1 / np.sqrt(25), name
        assert np.abs(p.data).max() > 0.9 / np.sqrt(25), name  # drawn over the whole interval
    assert lstm.weight_ih_l1_reverse.shape == (100, 50) and lstm.weight_hh_l0.shape == (100, 25)
    assert nn.GRU(3, 5).weight_ih_l0.shape == (15, 3) and nn.RNN(3, 5, bias=False).state_dict().keys() == {
        "weight_ih_l0", "weight_hh_l0"}  # fmt: skip


def test_the_output_and_final_states_agree():
    lstm = nn.LSTM(2, 3, num_layers=2, bidirectional=True)
    x = RNG.standard_normal((5, 4, 2))
    out, (h, c) = lstm(x)
    np.testing.assert_array_equal(h.data[2], out.data[-1, :, :3])  # last layer, forwards: the last step
    np.testing.assert_array_equal(h.data[3], out.data[0, :, 3:])  # last layer, backwards: the first step
    assert c.shape == (4, 4, 3)


@pytest.mark.parametrize("name", CLASSES)
def test_gradients_through_a_layer_pass_gradcheck_and_gradgradcheck(name):
    layer = getattr(nn, name)(2, 2, num_layers=2, bidirectional=True)
    x = ag.tensor(RNG.standard_normal((3, 1, 2)), requires_grad=True)

    def fn(x, *params):
        out, final = layer(x)
        return out, *(final if isinstance(final, tuple) else (final,))

    params = list(layer.parameters())[:4]
    assert gradcheck(fn, [x, *params]) and gradgradcheck(fn, [x, *params])


def test_relu_layer_second_derivatives_away_from_the_kink():
    x, h = RNG.standard_normal((3, 2, 2)), RNG.standard_normal((2, 2))
    w_ih, w_hh, b = (ag.tensor(RNG.standard_normal(s), requires_grad=True) for s in ((2, 2), (2, 2), (2,)))
    inputs = [ag.tensor(x, requires_grad=True), ag.tensor(h, requires_grad=True), w_ih, w_hh, b]
    fn = lambda x, h, w_ih, w_hh, b: F.rnn_layer(x, h, w_ih, w_hh, b, None, False, "relu")  # noqa: E731
    pre = np.abs(x @ w_ih.data.T + b.data)
    assert gradcheck(fn, inputs) and gradgradcheck(fn, inputs) and pre.min() > 1e-3


def test_dropout_between_layers_acts_in_training_only():
    nn.init.manual_seed(0)
    lstm = nn.LSTM(3, 4, num_layers=2, dropout=0.5)
    # The reference: the same weights with no dropout at all, so "no dropout" has a value to be compared with.
    reference = nn.LSTM(3, 4, num_layers=2)
    reference.load_state_dict(lstm.state_dict())
    reference.eval()
    x = RNG.standard_normal((4, 2, 3))
    assert not np.allclose(lstm(x)[0].data, reference(x)[0].data)  # training mode: dropout acts
    lstm.eval()
    np.testing.assert_array_equal(lstm(x)[0].data, reference(x)[0].data)  # eval mode: it does not
    with pytest.warns(UserWarning, match="num_layers=1 has no effect"):
        nn.GRU(3, 4, dropout=0.2)


def test_recurrent_layers_refuse_bad_input_with_clear_messages():
    lstm = nn.LSTM(3, 4, num_layers=2)
    with pytest.raises(ValueError, match="input.size\\(-1\\) must be equal to input_size. Expected 3, got 5"):
        lstm(np.zeros((2, 1, 5)))
    with pytest.raises(ValueError, match=r"expected hidden size \(2, 1, 4\), got \(1, 1, 4\)"):
        lstm(np.zeros((2, 1, 3)), (np.zeros((1, 1, 4)), np.zeros((2, 1, 4))))
    with pytest.raises(TypeError, match="hx must be a tuple \\(h_0, c_0\\)"):
        lstm(np.zeros((2, 1, 3)), np.zeros((2, 1, 4)))
    with pytest.raises(ValueError, match="expected input to be 2D \\(unbatched\\) or 3D, got 4D"):
        nn.GRU(3, 4)(np.zeros((1, 2, 1, 3)))
    with pytest.raises(ValueError, match="nonlinearity 'sigmoid'"):
        nn.RNN(3, 4, nonlinearity="sigmoid")
    with pytest.raises(NotImplementedError, match="proj_size"):
        nn.LSTM(3, 4, proj_size=2)
    with pytest.raises(ValueError, match="lstm_layer: weight_hh must have shape \\(8, 2\\)"):
        F.lstm_layer(np.zeros((2, 1, 3)), np.zeros((1, 2)), np.zeros((1, 2)), np.zeros((8, 3)), np.zeros((8, 3)))


def test_reset_parameters_redraws_from_a_generator_and_the_base_class_is_shared():
    gru, rnn = nn.GRU(2, 3, bidirectional=True), nn.RNN(2, 3)
    assert isinstance(gru, nn.RNNBase) and isinstance(rnn, nn.RNNBase) and isinstance(nn.LSTM(2, 3), nn.RNNBase)
    assert gru.num_directions == 2 and rnn.num_directions == 1
    gru.reset_parameters(np.random.default_rng(1))
    first = [p.data.copy() for p in gru.parameters()]
    gru.reset_parameters(np.random.default_rng(1))
    assert all(np.array_equal(a, p.data) for a, p in zip(first, gru.parameters()))
    gru.reset_parameters(np.random.default_rng(2))
    assert not np.array_equal(first[0], gru.weight_ih_l0.data)
