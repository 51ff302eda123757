"""Convolutional networks exported with ``autograd_nn.onnx.export`` and run by ONNX Runtime
give autograd_nn's outputs (float32, rtol 1e-4), exported at one batch size and run at
another, each file passing ``onnx.checker``; and the nodes are ONNX's own (Conv, MaxPool)."""

from __future__ import annotations

import numpy as np
from ort_session import onnx, run

import autograd_nn as ag
from autograd_nn import nn
from autograd_nn.onnx import export

RTOL, ATOL = 1e-4, 1e-5


def _check(tmp_path, model, shape, run_batch):
    rng = np.random.default_rng(0)
    path = tmp_path / "cnn.onnx"
    export(model, (rng.standard_normal((2, *shape)).astype(np.float32),), path, input_names=["image"],
           output_names=["logits"], dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}})  # fmt: skip
    proto = onnx.load(path)
    onnx.checker.check_model(proto, full_check=True)
    x = rng.standard_normal((run_batch, *shape)).astype(np.float32)
    (got,) = run(proto, x)
    with ag.no_grad():
        want = model(ag.tensor(x)).numpy()
    assert got.shape == want.shape and got.dtype == np.float32
    np.testing.assert_allclose(got, want, rtol=RTOL, atol=ATOL)
    return [node.op_type for node in proto.graph.node]


def test_a_lenet_runs_in_onnx_runtime_at_another_batch_size(tmp_path):
    nn.init.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(1, 6, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(16 * 4 * 4, 10),
    ).float()  # fmt: skip
    kinds = _check(tmp_path, model, (1, 28, 28), run_batch=5)
    assert kinds.count("Conv") == 2 and kinds.count("MaxPool") == 2 and "Gemm" in kinds


def test_padding_groups_transposed_convolutions_and_resampling_export(tmp_path):
    nn.init.manual_seed(1)
    model = nn.Sequential(
        nn.Conv2d(2, 4, 3, padding="same", dilation=2, groups=2), nn.Tanh(),
        nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True, count_include_pad=False),
        nn.ConvTranspose2d(4, 4, 3, stride=2, padding=1, output_padding=1), nn.Upsample(scale_factor=2, mode="bilinear"),
        nn.PixelUnshuffle(2), nn.MaxPool2d(3, stride=2, padding=1, dilation=2), nn.AdaptiveMaxPool2d((3, 2)),
        nn.AdaptiveAvgPool2d((2, 2)), nn.Flatten(), nn.Linear(16 * 4, 3),
    ).float()  # fmt: skip
    kinds = _check(tmp_path, model, (2, 9, 9), run_batch=3)
    assert {"Conv", "ConvTranspose", "AveragePool", "MaxPool"} <= set(kinds)


def test_a_one_dimensional_cnn_exports(tmp_path):
    nn.init.manual_seed(2)
    model = nn.Sequential(
        nn.Conv1d(3, 4, 3, stride=2, padding=1), nn.ReLU(), nn.MaxPool1d(2, ceil_mode=True),
        nn.ConvTranspose1d(4, 2, 2, stride=2), nn.AvgPool1d(2), nn.AdaptiveAvgPool1d(3), nn.Flatten(), nn.Linear(6, 2),
    ).float()  # fmt: skip
    _check(tmp_path, model, (3, 15), run_batch=4)
