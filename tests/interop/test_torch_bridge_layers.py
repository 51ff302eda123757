"""``from_torch`` and ``to_torch`` on the convolution, pooling, resampling, normalisation,
embedding, recurrent and attention layers (``autograd_nn.interop._zoo``), checked against
PyTorch itself: the converted layer has torch's class, settings and ``state_dict``, and gives
the same outputs and the same input and weight gradients (float64, rtol 1e-10; float32,
rtol 1e-5), both ways; BatchNorm's running statistics and ``num_batches_tracked`` move and
update alike."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="the PyTorch parity tests need torch: pip install torch")

import autograd_nn as ag  # noqa: E402
from autograd_nn import nn  # noqa: E402
from autograd_nn.interop._zoo import ZOO  # noqa: E402


def _layer(width: int = 8, **options):
    return nn.TransformerEncoderLayer(width, 2, dim_feedforward=16, dropout=0.1, **options)


def _ints(rng, shape):
    return rng.integers(0, 10, size=shape)


# (id, autograd_nn layer, the shapes of its inputs (an int array: indices)); float64, numpy's default
CASES = [
    ("Conv1d", lambda: nn.Conv1d(3, 4, 3, stride=2, padding=1), [(2, 3, 9)]),
    ("Conv2d", lambda: nn.Conv2d(4, 6, 3, padding="same", dilation=2, groups=2, bias=False), [(2, 4, 7, 7)]),
    ("ConvTranspose1d", lambda: nn.ConvTranspose1d(3, 4, 3, stride=2, padding=1, output_padding=1), [(2, 3, 5)]),
    ("ConvTranspose2d", lambda: nn.ConvTranspose2d(4, 2, 3, stride=2, padding=1, output_padding=1, groups=2),
     [(2, 4, 4, 4)]),
    ("MaxPool1d", lambda: nn.MaxPool1d(3, stride=2, padding=1), [(2, 3, 9)]),
    ("MaxPool2d", lambda: nn.MaxPool2d(3, stride=2, padding=1, dilation=2, ceil_mode=True), [(2, 3, 9, 9)]),
    ("MaxPool2d-indices", lambda: nn.MaxPool2d(2, return_indices=True), [(2, 3, 6, 6)]),
    ("AvgPool1d", lambda: nn.AvgPool1d(3, stride=2, padding=1, count_include_pad=False), [(2, 3, 9)]),
    ("AvgPool2d", lambda: nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True), [(2, 3, 8, 8)]),
    ("AvgPool2d-divisor", lambda: nn.AvgPool2d(2, divisor_override=3), [(2, 3, 6, 6)]),
    ("AdaptiveAvgPool1d", lambda: nn.AdaptiveAvgPool1d(4), [(2, 3, 9)]),
    ("AdaptiveAvgPool2d", lambda: nn.AdaptiveAvgPool2d((3, None)), [(2, 3, 7, 6)]),
    ("AdaptiveMaxPool2d", lambda: nn.AdaptiveMaxPool2d((3, 2)), [(2, 3, 7, 6)]),
    ("Dropout2d", lambda: nn.Dropout2d(0.3), [(2, 3, 4, 4)]),
    ("Upsample", lambda: nn.Upsample(scale_factor=2, mode="bilinear"), [(2, 3, 4, 5)]),
    ("Upsample-size", lambda: nn.Upsample(size=(7, 3)), [(2, 3, 4, 5)]),
    ("UpsamplingNearest2d", lambda: nn.UpsamplingNearest2d(scale_factor=2), [(2, 3, 3, 4)]),
    ("UpsamplingBilinear2d", lambda: nn.UpsamplingBilinear2d(size=(6, 7)), [(2, 3, 3, 4)]),
    ("PixelShuffle", lambda: nn.PixelShuffle(2), [(2, 8, 3, 3)]),
    ("PixelUnshuffle", lambda: nn.PixelUnshuffle(2), [(2, 2, 4, 6)]),
    ("BatchNorm1d", lambda: nn.BatchNorm1d(4, momentum=0.2), [(6, 4, 5)]),
    ("BatchNorm2d", lambda: nn.BatchNorm2d(3, eps=1e-3, momentum=None, bias=False), [(4, 3, 5, 5)]),
    ("BatchNorm2d-untracked", lambda: nn.BatchNorm2d(3, affine=False, track_running_stats=False), [(4, 3, 2, 2)]),
    ("LayerNorm", lambda: nn.LayerNorm((3, 4), eps=1e-3), [(2, 5, 3, 4)]),
    ("LayerNorm-nobias", lambda: nn.LayerNorm(4, bias=False), [(3, 4)]),
    ("GroupNorm", lambda: nn.GroupNorm(2, 4, eps=1e-4), [(2, 4, 3, 3)]),
    ("RMSNorm", lambda: nn.RMSNorm(4), [(3, 5, 4)]),
    ("RMSNorm-eps", lambda: nn.RMSNorm([5, 4], eps=1e-6, elementwise_affine=False), [(3, 5, 4)]),
    ("Embedding", lambda: nn.Embedding(10, 3, padding_idx=0, scale_grad_by_freq=True), [("int", (2, 5))]),
    ("RNN", lambda: nn.RNN(3, 5, num_layers=2, nonlinearity="relu", batch_first=True, bidirectional=True),
     [(2, 4, 3)]),
    ("LSTM", lambda: nn.LSTM(3, 5, num_layers=2, bidirectional=True), [(4, 2, 3)]),
    ("GRU", lambda: nn.GRU(3, 5, bias=False, batch_first=True), [(2, 4, 3)]),
    ("MultiheadAttention", lambda: nn.MultiheadAttention(8, 2, batch_first=True, add_bias_kv=True),
     [(2, 3, 8), (2, 5, 8), (2, 5, 8)]),
    ("MultiheadAttention-kvdim", lambda: nn.MultiheadAttention(8, 2, kdim=6, vdim=5, bias=False),
     [(3, 2, 8), (4, 2, 6), (4, 2, 5)]),
    ("TransformerEncoderLayer", lambda: _layer(activation="gelu", batch_first=True, norm_first=True), [(2, 5, 8)]),
    ("TransformerEncoderLayer-relu", lambda: _layer(), [(5, 2, 8)]),
    ("TransformerEncoder", lambda: nn.TransformerEncoder(_layer(), 2, norm=nn.LayerNorm(8), enable_nested_tensor=False),
     [(5, 2, 8)]),
]  # fmt: skip
IDS = [case[0] for case in CASES]
BY_ID = {case[0]: case for case in CASES}


def test_every_layer_registered_here_is_tested():
    assert sorted({name.split("-")[0] for name in IDS}) == sorted(b.theirs for b in ZOO)


def _inputs(case, rng, dtype=np.float64):
    return [_ints(rng, shape[1]) if shape[0] == "int" else rng.standard_normal(shape).astype(dtype)
            for shape in case[2]]  # fmt: skip


def _flat(out):
    """Every array of a (nested) output, in order: (output, (h_n, c_n)) → three."""
    flat, stack = [], [out]
    while stack:
        item = stack.pop()
        if isinstance(item, (tuple, list)):
            stack.extend(reversed(item))
        elif item is not None:
            flat.append(item)
    return flat


def _run_ours(module, arrays):
    module.zero_grad()  # each run's gradients alone
    inputs = [ag.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
    outs = _flat(module(*inputs))
    floats = [o for o in outs if o.dtype.kind == "f"]
    sum(o.sum() for o in floats).backward()
    grads = [t.grad.numpy() for t in inputs if t.requires_grad]
    weights = {k: p.grad.numpy() for k, p in module.named_parameters() if p.grad is not None}
    return [o.numpy() if isinstance(o, ag.Tensor) else np.asarray(o) for o in outs], grads, weights  # indices: arrays


def _run_theirs(module, arrays):
    module.zero_grad(set_to_none=True)
    inputs = [torch.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
    outs = _flat(module(*inputs))
    floats = [o for o in outs if o.dtype.is_floating_point]
    sum(o.sum() for o in floats).backward()
    grads = [t.grad.numpy() for t in inputs if t.requires_grad]
    weights = {k: p.grad.numpy() for k, p in module.named_parameters() if p.grad is not None}
    return [o.detach().numpy() for o in outs], grads, weights


def _same_behaviour(ours, theirs, arrays, rtol=1e-10, atol=1e-10):
    got, want = _run_ours(ours, arrays), _run_theirs(theirs, arrays)
    for mine, theirs_ in zip(got[:2], want[:2]):
        assert len(mine) == len(theirs_)
        for a, b in zip(mine, theirs_):
            assert a.shape == b.shape and a.dtype == b.dtype
            np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)
    assert sorted(got[2]) == sorted(want[2])
    for name, grad in got[2].items():
        np.testing.assert_allclose(grad, want[2][name], rtol=rtol, atol=atol, err_msg=name)


def _same_state(ours, theirs, rtol=0.0):
    """The same keys, dtypes and values (copied: exactly; computed by each library: to ``rtol``)."""
    mine, other = ours.state_dict(), theirs.state_dict()
    assert sorted(mine) == sorted(other)
    for key, value in mine.items():
        assert value.numpy().dtype == other[key].numpy().dtype, key
        np.testing.assert_allclose(value.numpy(), other[key].numpy(), rtol=rtol, atol=0, err_msg=key)


def _torch_weights(module):
    """Weights and running statistics of torch's own drawing (normal; variances positive)."""
    torch.manual_seed(0)
    with torch.no_grad():
        for param in module.parameters():
            param.normal_()
        for name, buffer in module.named_buffers():
            if name.endswith("running_mean"):
                buffer.normal_()
            elif name.endswith("running_var"):
                buffer.uniform_(0.5, 2.0)
            elif name.endswith("num_batches_tracked"):
                buffer.fill_(7)


@pytest.mark.parametrize("case_id", IDS)
def test_to_torch_builds_the_same_layer(case_id, rng):
    case = BY_ID[case_id]
    ours = case[1]().eval()
    theirs = ag.to_torch(ours)
    assert type(theirs) is getattr(torch.nn, case_id.split("-")[0]) and not theirs.training
    _same_state(ours, theirs)
    _same_behaviour(ours, theirs, _inputs(case, rng))


@pytest.mark.parametrize("case_id", IDS)
def test_from_torch_builds_the_same_layer(case_id, rng):
    case = BY_ID[case_id]
    theirs = ag.to_torch(case[1]()).eval()
    _torch_weights(theirs)
    ours = ag.from_torch(theirs)
    assert type(ours).__name__ == case_id.split("-")[0] and not ours.training
    _same_state(ours, theirs)
    _same_behaviour(ours, theirs, _inputs(case, rng))


@pytest.mark.parametrize("case_id", ["Conv2d", "ConvTranspose1d", "LSTM", "GroupNorm", "MultiheadAttention"])
def test_float32_layers_stay_float32(case_id, rng):
    case = BY_ID[case_id]
    ours = case[1]().float().eval()
    theirs = ag.to_torch(ours)
    assert all(p.dtype == torch.float32 for p in theirs.parameters())
    _same_behaviour(ours, theirs, _inputs(case, rng, np.float32), rtol=1e-5, atol=1e-5)
    back = ag.from_torch(theirs)
    assert all(p.dtype == np.float32 for p in back.parameters())
    _same_behaviour(back, theirs, _inputs(case, rng, np.float32), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("case_id", ["BatchNorm1d", "BatchNorm2d"])
def test_batch_norm_running_statistics_move_and_update_alike(case_id, rng):
    """Training-mode steps in both libraries after a conversion leave the same running
    mean, variance and count (momentum 0.2, and None: the cumulative average)."""
    case = BY_ID[case_id]
    theirs = ag.to_torch(case[1]())
    _torch_weights(theirs)
    ours = ag.from_torch(theirs)
    assert ours.training and int(ours.num_batches_tracked.numpy()) == 7
    assert ours.momentum == theirs.momentum and ours.eps == theirs.eps
    for _ in range(3):
        _same_behaviour(ours, theirs, _inputs(case, rng))
    _same_state(ours, theirs, rtol=1e-12)
    assert int(theirs.num_batches_tracked) == int(ours.num_batches_tracked.numpy()) == 10
    back = ag.to_torch(ours.eval())
    _same_state(ours, back)
    _same_behaviour(ours, back.eval(), _inputs(case, rng))


def test_settings_are_read_from_torch_modules_built_by_torch(rng):
    theirs = torch.nn.Sequential(
        torch.nn.Conv2d(2, 4, (3, 1), stride=(2, 1), padding=(1, 0), bias=False, dtype=torch.float64),
        torch.nn.GroupNorm(2, 4, eps=1e-3, dtype=torch.float64),
        torch.nn.MaxPool2d((2, 1), ceil_mode=True),
        torch.nn.Upsample(scale_factor=(2.0, 1.5), mode="bilinear", align_corners=True),
        torch.nn.PixelUnshuffle(2),
    )  # fmt: skip
    ours = ag.from_torch(theirs)
    conv, norm, pool, up, _ = ours
    assert (conv.kernel_size, conv.stride, conv.padding, conv.bias) == ((3, 1), (2, 1), (1, 0), None)
    assert (norm.num_groups, norm.eps, pool.kernel_size, pool.ceil_mode) == (2, 1e-3, (2, 1), True)
    assert (up.scale_factor, up.mode, up.align_corners) == ((2.0, 1.5), "bilinear", True)
    x = rng.standard_normal((2, 2, 9, 4))
    np.testing.assert_allclose(ours(x).numpy(), theirs(torch.tensor(x)).detach().numpy(), rtol=1e-10)


def test_a_transformer_encoder_keeps_every_layers_own_weights(rng):
    theirs = torch.nn.TransformerEncoder(
        torch.nn.TransformerEncoderLayer(8, 2, 16, activation="gelu", dtype=torch.float64), 3,
        enable_nested_tensor=False,
    ).eval()  # fmt: skip
    _torch_weights(theirs)  # the copies now differ from one another
    ours = ag.from_torch(theirs)
    assert len(ours.layers) == 3 and ours.layers[0].activation is ag.functional.gelu and ours.norm is None
    assert not np.allclose(ours.layers[0].linear1.weight.numpy(), ours.layers[2].linear1.weight.numpy())
    _same_state(ours, theirs)
    _same_behaviour(ours, theirs, [rng.standard_normal((4, 3, 8))])


def test_a_cnn_trained_in_pytorch_comes_back(rng):
    ours = nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2), nn.Dropout2d(0.2),
        nn.Conv2d(4, 2, 3), nn.AdaptiveAvgPool2d(1),
    )  # fmt: skip
    theirs = ag.to_torch(ours)
    x = torch.tensor(rng.standard_normal((8, 1, 8, 8)))
    opt = torch.optim.SGD(theirs.parameters(), lr=0.1)
    for _ in range(3):
        opt.zero_grad()
        theirs(x).square().mean().backward()
        opt.step()
    back = ag.from_torch(theirs.eval())
    assert int(back[1].num_batches_tracked.numpy()) == 3
    _same_state(back, theirs)
    np.testing.assert_allclose(back(x.numpy()).numpy(), theirs(x).detach().numpy(), rtol=1e-10)


@pytest.mark.parametrize(
    "module, message",
    [
        (lambda: torch.nn.Conv2d(1, 1, 3, padding=1, padding_mode="reflect"), "padding_mode='reflect'"),
        (lambda: torch.nn.ConvTranspose1d(1, 1, 3, padding_mode="zeros"), None),
        (lambda: torch.nn.Embedding(4, 2, sparse=True), "sparse=True"),
        (lambda: torch.nn.LSTM(3, 4, proj_size=2), "proj_size=2"),
        (lambda: torch.nn.TransformerEncoderLayer(8, 2, activation=torch.tanh), "activation="),
    ],
)
def test_settings_autograd_nn_lacks_are_refused(module, message):
    if message is None:
        assert isinstance(ag.from_torch(module()), nn.ConvTranspose1d)
        return
    with pytest.raises(TypeError, match=message):
        ag.from_torch(module())


def test_layers_that_build_their_own_sub_modules_are_converted_whole(rng):
    """``whole=True``: the children come with the layer (torch's MultiheadAttention.out_proj is a
    NonDynamicallyQuantizableLinear, in no table), and their weights move by name all the same."""
    from autograd_nn.interop import LayerBridge, register_layer

    assert sorted(b.theirs for b in ZOO if b.whole) == [
        "MultiheadAttention", "TransformerEncoder", "TransformerEncoderLayer"
    ]  # fmt: skip

    class Residual(nn.Module):  # a user's layer that makes its own Linear
        def __init__(self, features: int, dtype=None) -> None:
            super().__init__()
            self.inner = nn.Linear(features, features, dtype=dtype)

        def forward(self, x):
            return x + self.inner(x)

    class TorchResidual(torch.nn.Module):
        def __init__(self, features: int, dtype=None) -> None:
            super().__init__()
            self.features = features
            self.inner = torch.nn.Linear(features, features, dtype=dtype)

        def forward(self, x):
            return x + self.inner(x)

    torch.nn.Residual = TorchResidual  # from_torch and to_torch look the name up in torch.nn
    bridge = register_layer(Residual, "Residual", lambda m: {"features": m.inner.in_features}, whole=True)
    try:
        assert isinstance(bridge, LayerBridge) and bridge.whole and not bridge.container
        ours = nn.Sequential(Residual(3), nn.Tanh())
        theirs = ag.to_torch(ours)
        assert type(theirs[0]) is TorchResidual and theirs[0].inner.weight.dtype == torch.float64
        _same_state(ours, theirs)
        _same_behaviour(ours, theirs, [rng.standard_normal((4, 3))])
        back = ag.from_torch(theirs)
        assert type(back[0]) is Residual
        _same_state(back, theirs)
    finally:
        from autograd_nn.interop import LAYERS

        LAYERS.remove(bridge)
        del torch.nn.Residual
