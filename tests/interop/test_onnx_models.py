"""Whole models exported with ``autograd_nn.onnx.export`` and run by ONNX Runtime give
autograd_nn's outputs (float32, rtol 1e-4): the bike-sharing network, an MLP classifier, a
LayerNorm + GELU block, a transformer encoder layer and an unrolled RNN, each exported at
one batch size and run at another, and each file passing ``onnx.checker``; and a model ending in
binary_cross_entropy_with_logits, whose sign fold is computed from each input, and one ending in
cross_entropy at fixed labels."""

from __future__ import annotations

import io

import numpy as np
import onnx_models as models
import pytest
from ort_session import onnx, run

import autograd_nn as ag
from autograd_nn import nn
from autograd_nn.data import synthetic_bike_sharing
from autograd_nn.onnx import DEFAULT_OPSET, export
from autograd_nn.training import build_network

RTOL, ATOL = 1e-4, 1e-6


def expected(model, *inputs):
    with ag.no_grad():
        out = model(*[ag.tensor(x) for x in inputs])
    return [o.numpy() for o in out] if isinstance(out, tuple) else [out.numpy()]


def exported_and_checked(tmp_path, model, args, **options):
    """Export to a file, load it back with onnx and run the full checker on it."""
    path = tmp_path / "model.onnx"
    export(model, args, path, **options)
    loaded = onnx.load(path)
    onnx.checker.check_model(loaded, full_check=True)
    return loaded


def test_the_bike_network_runs_in_onnx_runtime_at_any_batch_size(tmp_path):
    data = synthetic_bike_sharing(seed=0)
    X = data.test.X.astype(np.float32)
    model = build_network(56, 25, seed=3, dtype="float32")
    axes = {"features": {0: "batch"}, "riders": {0: "batch"}}
    proto = exported_and_checked(
        tmp_path, model, (X[:4],), input_names=["features"], output_names=["riders"], dynamic_axes=axes
    )
    assert [n.op_type for n in proto.graph.node] == ["Gemm", "Sigmoid", "Gemm"]
    assert proto.opset_import[0].version == DEFAULT_OPSET == 18
    (got,) = run(proto, X[4:13])  # exported with 4 rows, run with 9
    assert got.shape == (9, 1) and got.dtype == np.float32
    np.testing.assert_allclose(got, expected(model, X[4:13])[0], rtol=RTOL, atol=ATOL)
    (everything,) = run(proto, X)
    np.testing.assert_allclose(everything, expected(model, X)[0], rtol=RTOL, atol=ATOL)
    dims = [
        [d.dim_param or d.dim_value for d in v.type.tensor_type.shape.dim]
        for v in (*proto.graph.input, *proto.graph.output)
    ]
    assert dims == [["batch", 56], ["batch", 1]]


def test_initialisers_are_the_parameters_under_their_state_dict_names(tmp_path):
    model = build_network(56, 5, seed=1, dtype="float32")
    proto = exported_and_checked(tmp_path, model, (np.zeros((2, 56), np.float32),))
    stored = {t.name: onnx.numpy_helper.to_array(t) for t in proto.graph.initializer}
    state = model.state_dict()
    assert sorted(stored) == sorted(state) == ["0.bias", "0.weight", "2.bias", "2.weight"]
    for name, value in state.items():
        np.testing.assert_array_equal(stored[name], value.numpy())


def test_without_dynamic_axes_the_shapes_are_fixed(tmp_path):
    model = build_network(56, 5, dtype="float32")
    proto = exported_and_checked(tmp_path, model, (np.ones((3, 56), np.float32),))
    assert [d.dim_value for d in proto.graph.input[0].type.tensor_type.shape.dim] == [3, 56]
    assert [d.dim_value for d in proto.graph.output[0].type.tensor_type.shape.dim] == [3, 1]


def test_a_classifier_exports_in_eval_mode_and_keeps_its_training_mode(tmp_path, rng):
    model = models.classifier()
    model.train()
    proto = exported_and_checked(tmp_path, model, (rng.random((4, 64), dtype=np.float32),), dynamic_axes={"input": [0]})
    assert model.training and model[2].training  # restored after the export
    assert [n.op_type for n in proto.graph.node] == ["Gemm", "Relu", "Gemm", "Softmax"]  # no dropout mask
    assert proto.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "input_dynamic_axes_1"  # PyTorch's name
    model.eval()
    x = rng.random((9, 64), dtype=np.float32)
    (got,) = run(proto, x)
    np.testing.assert_allclose(got, expected(model, x)[0], rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(got.sum(axis=1), 1, rtol=1e-5)


def test_a_layernorm_gelu_block(tmp_path, rng):
    model = models.NormGelu()
    proto = exported_and_checked(
        tmp_path, model, (rng.standard_normal((4, 16), dtype=np.float32),), dynamic_axes={"input": {0: "n"}}
    )
    kinds = {n.op_type for n in proto.graph.node}
    assert {"ReduceMean", "Sqrt", "Tanh", "Pow", "Gemm"} <= kinds
    x = rng.standard_normal((9, 16), dtype=np.float32)
    (got,) = run(proto, x)
    np.testing.assert_allclose(got, expected(model, x)[0], rtol=RTOL, atol=ATOL)
    assert {t.name for t in proto.graph.initializer} >= {"linear.weight", "linear.bias", "norm.weight", "norm.bias"}


def test_a_transformer_encoder_layer_with_dynamic_batch_and_length(tmp_path, rng):
    model = models.EncoderLayer()
    axes = {"input": {0: "batch", 1: "steps"}, "output": {0: "batch", 1: "steps"}}
    proto = exported_and_checked(
        tmp_path, model, (rng.standard_normal((4, 5, 16), dtype=np.float32),), dynamic_axes=axes
    )
    assert {"Softmax", "MatMul", "Reshape", "Transpose"} <= {n.op_type for n in proto.graph.node}
    for shape in ((9, 7, 16), (1, 3, 16), (4, 5, 16)):
        x = rng.standard_normal(shape, dtype=np.float32)
        (got,) = run(proto, x)
        assert got.shape == shape
        np.testing.assert_allclose(got, expected(model, x)[0], rtol=RTOL, atol=1e-5)


def test_an_unrolled_rnn_whose_first_state_follows_the_batch(tmp_path, rng):
    """h₀ = zeros((batch, hidden)) is made in forward from x.shape: it becomes a zero
    expanded to a shape read from the input, so the batch can change."""
    model = models.ElmanRNN()
    names = {"input_names": ["x"], "output_names": ["states", "last"]}
    axes = {"x": {0: "batch"}, "states": {0: "batch"}, "last": {0: "batch"}}
    proto = exported_and_checked(
        tmp_path, model, (rng.standard_normal((4, 6, 5), dtype=np.float32),), dynamic_axes=axes, **names
    )
    assert "Expand" in {n.op_type for n in proto.graph.node}
    x = rng.standard_normal((9, 6, 5), dtype=np.float32)
    states, last = run(proto, x)
    want_states, want_last = expected(model, x)
    np.testing.assert_allclose(states, want_states, rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(last, want_last, rtol=RTOL, atol=ATOL)
    np.testing.assert_array_equal(states[:, -1], last)


def test_a_buffer_sliced_to_the_inputs_length_follows_it(rng):
    """pe[: x.shape[1]] is recorded (buffers and frozen weights require grad while tracing),
    and its end is read from the input's shape; the flags are restored after."""
    model = models.PositionalLinear()
    proto = export(model, (rng.random((2, 5, 8), dtype=np.float32),), dynamic_axes={"input": {0: "batch", 1: "steps"}})
    assert {"pe", "linear.weight", "linear.bias"} <= {t.name for t in proto.graph.initializer}
    assert not model.pe.requires_grad and not model.linear.weight.requires_grad and model.linear.bias.requires_grad
    for shape in ((3, 11, 8), (1, 50, 8)):
        x = rng.random(shape, dtype=np.float32)
        np.testing.assert_allclose(run(proto, x)[0], expected(model, x)[0], rtol=RTOL, atol=ATOL)


def test_linear_on_a_batch_of_sequences_is_a_matmul(rng):
    layer = nn.Linear(3, 2, dtype="float32")
    proto = export(layer, rng.random((2, 4, 3), dtype=np.float32), dynamic_axes={"input": [0, 1]})
    assert [n.op_type for n in proto.graph.node] == ["Transpose", "MatMul", "Add"]
    x = rng.random((5, 6, 3), dtype=np.float32)
    np.testing.assert_allclose(run(proto, x)[0], expected(layer, x)[0], rtol=RTOL, atol=ATOL)


def test_a_fused_op_without_a_converter_exports_through_its_decomposition(rng):
    """MseLoss has no converter: the exporter records its declared decomposition instead."""
    import autograd_nn.functional as F
    from autograd_nn.onnx import CONVERTERS
    from autograd_nn.ops import MseLoss

    assert MseLoss not in CONVERTERS
    x, y = rng.random((4, 3), dtype=np.float32), rng.random((4, 3), dtype=np.float32)
    proto = export(lambda a, b: F.mse_loss(a, b), (x, y), dynamic_axes={"input_0": [0], "input_1": [0]})
    assert [n.op_type for n in proto.graph.node] == ["Sub", "Mul", "ReduceMean"]
    a, b = rng.random((7, 3), dtype=np.float32), rng.random((7, 3), dtype=np.float32)
    np.testing.assert_allclose(run(proto, a, b)[0], np.mean((a - b) ** 2), rtol=RTOL)


def test_a_frozen_parameter_is_still_a_named_initialiser(rng):
    model = build_network(56, 4, dtype="float32")
    model[0].weight.requires_grad_(False)  # recorded as a constant operand, found by its array
    proto = export(model, np.ones((2, 56), np.float32))
    assert "0.weight" in {t.name for t in proto.graph.initializer}
    x = rng.random((2, 56), dtype=np.float32)
    np.testing.assert_allclose(run(proto, x)[0], expected(model, x)[0], rtol=RTOL, atol=ATOL)


def test_float64_models_export_as_double(rng):
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))  # float64, numpy's default
    x = rng.random((5, 3))
    (got,) = run(export(model, x), x)
    assert got.dtype == np.float64
    np.testing.assert_allclose(got, expected(model, x)[0], rtol=1e-12)


def test_f_may_be_a_file_object_and_inputs_may_be_tensors(rng):
    model = nn.Sequential(nn.Linear(3, 2, dtype="float32"), nn.LeakyReLU(0.2))
    buffer = io.BytesIO()
    x = ag.tensor(rng.random((4, 3), dtype=np.float32))
    proto = export(model, x, buffer, opset_version=13)
    assert buffer.getvalue() == proto.SerializeToString() and proto.opset_import[0].version == 13
    assert x.requires_grad is False and x.grad_fn is None  # the caller's tensor is untouched
    np.testing.assert_allclose(run(buffer.getvalue(), x.numpy())[0], expected(model, x.numpy())[0], rtol=RTOL)


@pytest.mark.parametrize("opset", [13, 17, 18])
def test_reductions_follow_the_opset(opset, rng):
    """Reduce* took axes as an attribute before opset 18 (ReduceSum: before 13)."""
    proto = export(
        lambda x: x.max(axis=1) + x.mean(axis=0, keepdims=True).sum(), rng.random((3, 4)), opset_version=opset
    )
    mean = next(n for n in proto.graph.node if n.op_type == "ReduceMean")
    assert (len(mean.input) == 2) == (opset >= 18) and any(a.name == "axes" for a in mean.attribute) == (opset < 18)
    x = rng.random((3, 4))
    np.testing.assert_allclose(run(proto, x)[0], x.max(axis=1) + x.mean(axis=0, keepdims=True).sum(), rtol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("pos_weight", [None, (2.0, 0.5, 1.0)], ids=["plain", "pos_weight"])
def test_a_model_ending_in_bce_with_logits_exports_for_logits_of_either_sign(tmp_path, rng, dtype, pos_weight):
    """binary_cross_entropy_with_logits folds each logit by its sign, −|z| = z·(1 − 2 relu(sign z)),
    in recorded ops: the export computes the fold of each new input. (Masks of the example's
    values, z > 0, were constants of the example, and export refused them.)"""
    import autograd_nn.functional as F

    nn.init.manual_seed(4)
    model = nn.Sequential(nn.Linear(4, 3, dtype=dtype))
    q = None if pos_weight is None else np.array(pos_weight, dtype)

    def loss(x, y):
        return F.binary_cross_entropy_with_logits(model(x), y, pos_weight=q, reduction="none")

    x, y = rng.normal(size=(2, 4)).astype(dtype), rng.random((2, 3)).astype(dtype)
    axes = {"input_0": [0], "input_1": [0]}
    proto = exported_and_checked(tmp_path, loss, (x, y), dynamic_axes=axes)
    assert "Sign" in {n.op_type for n in proto.graph.node}
    # other rows, logits of both signs and far out (|z| past 20), hard and soft labels
    x = (rng.normal(size=(40, 4)) * np.geomspace(0.1, 100, 40)[:, None]).astype(dtype)
    y = np.where(rng.random((40, 3)) < 0.3, rng.random((40, 3)), rng.random((40, 3)) < 0.5).astype(dtype)
    want = expected(loss, x, y)[0]
    logits = expected(model, x)[0]
    assert (logits > 20).any() and (logits < -20).any() and (want < 1e-9).any()
    (got,) = run(proto, x, y)
    assert got.dtype == dtype
    # ONNX's Softplus is ln(eˣ + 1): ONNX Runtime rounds 1 + e⁻⁴³ to 1, an error of ~1e-17 in float64
    tolerance = {"rtol": RTOL, "atol": ATOL} if dtype == np.float32 else {"rtol": 1e-12, "atol": 1e-15}
    np.testing.assert_allclose(got, want, **tolerance)


@pytest.mark.parametrize("reduction", ["mean", "none"])
def test_a_model_ending_in_cross_entropy_at_fixed_labels_exports_its_decomposition(tmp_path, rng, reduction):
    """cross_entropy at integer labels is one fused node whose labels are a parameter: the export
    writes its decomposition, −Σₖ yₖ ln softmax(ŷ)ₖ with y the labels' (smoothed) one-hot a constant."""
    import autograd_nn.functional as F

    nn.init.manual_seed(5)
    model = nn.Sequential(nn.Linear(4, 3, dtype=np.float32))
    labels = np.array([0, 2, 1, 2, 1])

    def loss(x):
        return F.cross_entropy(model(x), labels, reduction=reduction, label_smoothing=0.1)

    x = rng.normal(size=(5, 4)).astype(np.float32)
    proto = exported_and_checked(tmp_path, loss, (x,))
    assert [n.op_type for n in proto.graph.node][:3] == ["Gemm", "LogSoftmax", "Mul"]
    x = (rng.normal(size=(5, 4)) * 3).astype(np.float32)
    logits = expected(model, x)[0].astype(np.float64)
    log_p = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    per_sample = -0.9 * log_p[np.arange(5), labels] - 0.1 * log_p.mean(axis=1)
    (got,) = run(proto, x)
    np.testing.assert_allclose(got, per_sample.mean() if reduction == "mean" else per_sample, rtol=RTOL, atol=ATOL)
