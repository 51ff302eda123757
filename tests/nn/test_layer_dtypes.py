"""The sequence and normalisation layers follow the dtype rules of every layer: new
parameters take the default dtype, ``model.to(dtype)`` casts them and their floating
buffers (not ``num_batches_tracked``), and input of another dtype is refused."""

from __future__ import annotations

import numpy as np
import pytest

import autograd_nn as ag
from autograd_nn import nn
from autograd_nn.nn._checks import DtypeMismatchError

F32 = np.float32


def layers():
    return {
        "LSTM": (nn.LSTM(3, 4, num_layers=2), np.zeros((5, 2, 3))),
        "GRU": (nn.GRU(3, 4, bidirectional=True), np.zeros((5, 2, 3))),
        "RNN": (nn.RNN(3, 4), np.zeros((5, 2, 3))),
        "BatchNorm1d": (nn.BatchNorm1d(3), np.ones((4, 3)) * np.arange(4)[:, None]),
        "BatchNorm2d": (nn.BatchNorm2d(3), np.arange(48.0).reshape(2, 3, 2, 4)),
        "LayerNorm": (nn.LayerNorm(3), np.zeros((4, 3))),
        "GroupNorm": (nn.GroupNorm(1, 3), np.arange(12.0).reshape(2, 3, 2)),
        "RMSNorm": (nn.RMSNorm(3), np.ones((4, 3))),
        "MultiheadAttention": (nn.MultiheadAttention(4, 2), np.zeros((3, 2, 4))),
        "TransformerEncoderLayer": (nn.TransformerEncoderLayer(4, 2, 8), np.zeros((3, 2, 4))),
    }


def run(layer, x):
    return layer(x, x, x) if isinstance(layer, nn.MultiheadAttention) else layer(x)


@pytest.mark.parametrize("name", list(layers()))
def test_a_cast_layer_takes_input_of_its_new_dtype_and_refuses_the_old_one(name):
    layer, x = layers()[name]
    assert {p.dtype for p in layer.parameters()} == {np.dtype(np.float64)}
    run(layer, x)
    layer.to(F32)
    assert {p.dtype for p in layer.parameters()} == {np.dtype(F32)}
    assert all(b.dtype in (np.dtype(F32), np.dtype(np.int64)) for b in layer.buffers())
    out = run(layer, x.astype(F32))
    first = out[0] if isinstance(out, tuple) else out
    assert first.dtype == F32
    with pytest.raises(DtypeMismatchError, match="input has dtype float64 but the layer's parameters are float32"):
        run(layer, x)


def test_batch_norm_keeps_its_counter_an_integer_and_new_layers_take_the_default_dtype():
    bn = nn.BatchNorm1d(2).to(F32)
    assert bn.num_batches_tracked.dtype == np.int64 and bn.running_var.dtype == F32
    before = ag.get_default_dtype()
    try:
        ag.set_default_dtype(F32)
        made = [nn.LSTM(2, 3), nn.Embedding(4, 2), nn.MultiheadAttention(4, 2), nn.GroupNorm(1, 2), nn.RMSNorm(2)]
        assert all(p.dtype == F32 for m in made for p in m.parameters())
    finally:
        ag.set_default_dtype(before)
    with pytest.raises(DtypeMismatchError):
        nn.GRU(2, 3)(np.zeros((1, 1, 2)), np.zeros((1, 1, 3), dtype=F32))  # the initial state too
