"""Models built from autograd_nn's own layers (nn.Conv2d/MaxPool2d, nn.LayerNorm,
nn.TransformerEncoderLayer, nn.LSTM), exported with ``autograd_nn.onnx.export`` and run by
ONNX Runtime, give autograd_nn's outputs (float32, rtol 1e-4): the digits CNN of
``examples/digits_cnn.py``, a LayerNorm + GELU block, a transformer encoder layer and an
LSTM, each exported with batch 4 and run with batch 9, each file passing ``onnx.checker``."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
from ort_session import onnx, run

import autograd_nn as ag
import autograd_nn.functional as F
from autograd_nn import nn
from autograd_nn.onnx import export

RTOL, ATOL = 1e-4, 1e-5
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _digits_cnn() -> nn.Module:
    spec = importlib.util.spec_from_file_location("example_digits_cnn", EXAMPLES / "digits_cnn.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.DigitsCNN()


class NormGelu(nn.Module):
    """Linear → nn.LayerNorm → GELU (exact, erf), the block of a transformer's MLP."""

    def __init__(self, n_in: int = 16, width: int = 24) -> None:
        super().__init__()
        self.linear = nn.Linear(n_in, width, dtype="float32")
        self.norm = nn.LayerNorm(width, dtype="float32")

    def forward(self, x):
        return F.gelu(self.norm(self.linear(x)))


def _expected(model, x):
    with ag.no_grad():
        out = model(ag.tensor(x))
    flat, stack = [], [out]
    while stack:  # (output, (h_n, c_n)) → three arrays, in order
        item = stack.pop()
        if isinstance(item, tuple):
            stack.extend(reversed(item))
        else:
            flat.append(item.numpy())
    return flat


def _exported(tmp_path, model, x, **options):
    path = tmp_path / "model.onnx"
    export(model, (x,), path, **options)
    proto = onnx.load(path)
    onnx.checker.check_model(proto, full_check=True)
    return proto


def _check_runs(proto, model, x):
    got = run(proto, x)
    want = _expected(model, x)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g.shape == w.shape and g.dtype == np.float32
        np.testing.assert_allclose(g, w, rtol=RTOL, atol=ATOL)
    return got


def _randn(rng, *shape):
    return rng.standard_normal(shape).astype(np.float32)


def test_the_digits_cnn_runs_in_onnx_runtime_at_another_batch_size(tmp_path, rng):
    nn.init.manual_seed(0)
    model = _digits_cnn().eval()
    axes = {"image": {0: "batch"}, "logits": {0: "batch"}}
    proto = _exported(tmp_path, model, _randn(rng, 4, 1, 8, 8), input_names=["image"], output_names=["logits"],
                      dynamic_axes=axes)  # fmt: skip
    kinds = [n.op_type for n in proto.graph.node]
    assert kinds.count("Conv") == 2 and kinds.count("MaxPool") == 2 and kinds.count("Relu") == 2 and "Gemm" in kinds
    assert {"conv1.weight", "conv1.bias", "conv2.weight", "head.weight"} <= {t.name for t in proto.graph.initializer}
    (got,) = _check_runs(proto, model, _randn(rng, 9, 1, 8, 8))
    assert got.shape == (9, 10)


def test_a_layernorm_gelu_block_of_real_layers(tmp_path, rng):
    nn.init.manual_seed(1)
    model = NormGelu()
    with ag.no_grad():  # non-trivial γ and β, so a dropped affine step would show
        model.norm.weight.data[...] = np.linspace(0.5, 1.5, 24, dtype=np.float32)
        model.norm.bias.data[...] = np.linspace(-0.2, 0.2, 24, dtype=np.float32)
    proto = _exported(tmp_path, model, _randn(rng, 4, 16), dynamic_axes={"input": {0: "n"}, "output": {0: "n"}})
    assert {"Gemm", "ReduceMean", "Erf"} <= {n.op_type for n in proto.graph.node}
    assert {"norm.weight", "norm.bias"} <= {t.name for t in proto.graph.initializer}
    (got,) = _check_runs(proto, model, _randn(rng, 9, 16))
    assert got.shape == (9, 24)


@pytest.mark.parametrize("norm_first, activation", [(False, "relu"), (True, "gelu")])
def test_a_transformer_encoder_layer_with_dynamic_batch_and_length(tmp_path, rng, norm_first, activation):
    nn.init.manual_seed(2)
    model = nn.TransformerEncoderLayer(
        16, 4, dim_feedforward=32, activation=activation, batch_first=True, norm_first=norm_first, dtype="float32"
    ).eval()  # fmt: skip
    axes = {"input": {0: "batch", 1: "steps"}, "output": {0: "batch", 1: "steps"}}
    proto = _exported(tmp_path, model, _randn(rng, 4, 5, 16), dynamic_axes=axes)
    kinds = {n.op_type for n in proto.graph.node}
    assert {"Softmax", "MatMul", "ReduceMean"} <= kinds and "Dropout" not in kinds
    for shape in ((9, 5, 16), (9, 7, 16), (1, 3, 16)):
        _check_runs(proto, model, _randn(rng, *shape))


def test_a_transformer_encoder_stack(tmp_path, rng):
    nn.init.manual_seed(3)
    layer = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, batch_first=True, dtype="float32")
    model = nn.TransformerEncoder(layer, num_layers=2, enable_nested_tensor=False).eval()
    proto = _exported(tmp_path, model, _randn(rng, 4, 6, 8), dynamic_axes={"input": {0: "batch"}})
    assert {"layers.0.self_attn.in_proj_weight", "layers.1.linear2.bias"} <= {t.name for t in proto.graph.initializer}
    _check_runs(proto, model, _randn(rng, 9, 6, 8))


@pytest.mark.parametrize("num_layers, bidirectional", [(1, False), (2, True)])
def test_an_lstm_returns_its_output_and_final_states(tmp_path, rng, num_layers, bidirectional):
    """(output, (h_n, c_n)) becomes three ONNX outputs, as torch.onnx.export names them;
    h₀ = c₀ = 0 follow the batch size read from the input."""
    nn.init.manual_seed(4)
    model = nn.LSTM(5, 7, num_layers=num_layers, batch_first=True, bidirectional=bidirectional, dtype="float32")
    names = {"input_names": ["x"], "output_names": ["output", "h_n", "c_n"]}
    axes = {"x": {0: "batch"}, "output": {0: "batch"}, "h_n": {1: "batch"}, "c_n": {1: "batch"}}
    proto = _exported(tmp_path, model, _randn(rng, 4, 6, 5), dynamic_axes=axes, **names)
    assert [o.name for o in proto.graph.output] == ["output", "h_n", "c_n"]
    assert {"Sigmoid", "Tanh", "MatMul"} <= {n.op_type for n in proto.graph.node}
    output, h_n, c_n = _check_runs(proto, model, _randn(rng, 9, 6, 5))
    directions = 2 if bidirectional else 1
    assert output.shape == (9, 6, 7 * directions) and h_n.shape == c_n.shape == (num_layers * directions, 9, 7)
    np.testing.assert_array_equal(output[:, -1, :7], h_n[-directions])  # the last step is the last state


def test_an_lstm_exported_without_dynamic_axes_has_fixed_shapes(tmp_path, rng):
    model = nn.LSTM(3, 4, dtype="float32")  # (steps, batch, features)
    proto = _exported(tmp_path, model, _randn(rng, 5, 2, 3))
    dims = [[d.dim_value for d in v.type.tensor_type.shape.dim] for v in proto.graph.output]
    assert dims == [[5, 2, 4], [1, 2, 4], [1, 2, 4]]
    _check_runs(proto, model, _randn(rng, 5, 2, 3))


def test_a_nested_output_of_something_else_is_a_clear_error(rng):
    from autograd_nn.onnx import ExportError

    with pytest.raises(ExportError, match=r"returned a dict as output 1.*nested"):
        export(lambda x: (x * 2, {"h": x}), (_randn(rng, 2, 3),))


@pytest.mark.parametrize(
    "make",
    [
        lambda: nn.GRU(5, 7, num_layers=2, batch_first=True, dtype="float32"),
        lambda: nn.RNN(5, 7, nonlinearity="relu", bidirectional=True, batch_first=True, dtype="float32"),
    ],
    ids=["GRU", "RNN"],
)
def test_gru_and_rnn_return_their_output_and_final_state(tmp_path, rng, make):
    nn.init.manual_seed(5)
    model = make()
    axes = {"input": {0: "batch"}, "output_0": {0: "batch"}, "output_1": {1: "batch"}}
    proto = _exported(tmp_path, model, _randn(rng, 4, 6, 5), dynamic_axes=axes)
    assert [o.name for o in proto.graph.output] == ["output_0", "output_1"]  # (output, h_n)
    _check_runs(proto, model, _randn(rng, 9, 6, 5))


def test_batch_norm_in_eval_mode_and_group_norm_follow_a_convolution(tmp_path, rng):
    nn.init.manual_seed(6)
    model = nn.Sequential(
        nn.Conv2d(2, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.GroupNorm(2, 4), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
    ).float()  # fmt: skip
    model.train()
    with ag.no_grad():
        model(ag.tensor(_randn(rng, 8, 2, 6, 6)))  # running statistics that are not 0 and 1
    model.eval()
    proto = _exported(tmp_path, model, _randn(rng, 4, 2, 6, 6), dynamic_axes={"input": {0: "batch"}})
    # eval-mode batch_norm is recorded as an affine map whose scale and shift numpy computes
    # from the running statistics, so those arrive as constants, not under their own names
    assert {"0.weight", "1.weight", "1.bias", "3.weight"} <= {t.name for t in proto.graph.initializer}
    (got,) = _check_runs(proto, model, _randn(rng, 9, 2, 6, 6))
    assert got.shape == (9, 4)


def test_an_embedding_table_and_rms_norm(tmp_path, rng):
    nn.init.manual_seed(7)
    model = nn.Sequential(nn.Embedding(10, 4, padding_idx=0, dtype="float32"), nn.RMSNorm(4, dtype="float32"))
    proto = _exported(tmp_path, model, rng.integers(0, 10, (4, 3)), dynamic_axes={"input": {0: "batch", 1: "steps"}})
    assert "Gather" in {n.op_type for n in proto.graph.node}
    _check_runs(proto, model, rng.integers(0, 10, (9, 5)))
