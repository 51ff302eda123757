"""A compiled training step of the sequence and normalisation layers equals the eager one,
bit for bit: an LSTM, a small transformer with dropout (seeded), a BatchNorm model (its
running statistics are buffers the step updates in place), embeddings and the recurrent
family. Each model is built twice from the same seed; one steps through ``ag.compile``,
the other eagerly (the ordinary engine: the independent reference), on the same batches.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import autograd_nn as ag
from autograd_nn import nn, optim

F = ag.functional


class _LstmModel(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.lstm = nn.LSTM(3, 5, num_layers=2, batch_first=True, dropout=0.2)
        self.head = nn.Linear(5, 2)

    def forward(self, x: Any) -> Any:
        out, (h, c) = self.lstm(x)
        return self.head(out[:, -1]) + h[-1].sum() * 0 + c[-1].mean(axis=-1, keepdims=True)


class _Recurrent(nn.Module):
    """GRU, then a bidirectional tanh RNN, then a relu RNN: every cell and both directions."""

    def __init__(self) -> None:
        super().__init__()
        self.gru = nn.GRU(3, 4, batch_first=True)
        self.rnn = nn.RNN(4, 3, bidirectional=True, batch_first=True)
        self.relu_rnn = nn.RNN(6, 2, nonlinearity="relu", batch_first=True)

    def forward(self, x: Any) -> Any:
        x, _ = self.gru(x)
        x, _ = self.rnn(x)
        x, h = self.relu_rnn(x)
        return x[:, -1] + h[0]


class _Transformer(nn.Module):
    """Token embedding, a learned position table, two encoder layers (post- and pre-norm,
    relu and gelu), a causal mask and a key-padding mask, then attention that returns its
    weights (the path without scaled_dot_product_attention): every dropout site draws."""

    def __init__(self) -> None:
        super().__init__()
        self.tokens = nn.Embedding(11, 8, padding_idx=0)
        self.positions = nn.Embedding(6, 8, max_norm=1.5)  # rows renormalised in place before each lookup
        self.first = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.25, batch_first=True)
        self.second = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.25, activation="gelu", batch_first=True, norm_first=True)
        self.attend = nn.MultiheadAttention(8, 2, dropout=0.25, batch_first=True)
        self.norm = nn.RMSNorm(8)
        self.out = nn.Linear(8, 11)

    def forward(self, tokens: Any) -> Any:
        steps = tokens.shape[1]
        x = self.tokens(tokens) + self.positions(np.arange(steps))
        causal = np.triu(np.ones((steps, steps), dtype=bool), k=1)  # True: may not attend (nn's convention)
        x = self.first(x, src_mask=causal)
        x = self.second(x, src_key_padding_mask=tokens.data == 0)
        attended, weights = self.attend(x, x, x, need_weights=True)
        return self.out(self.norm(x + attended)) + weights.sum(axis=-1, keepdims=True)


class _BatchNormModel(nn.Module):
    """Linear → BatchNorm1d → ReLU → (N, C, L) view → BatchNorm1d(momentum=None, a
    cumulative average) → GroupNorm → LayerNorm → Linear."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(4, 12)
        self.bn = nn.BatchNorm1d(12)
        self.bn_cumulative = nn.BatchNorm1d(3, momentum=None)
        self.group = nn.GroupNorm(3, 3)
        self.norm = nn.LayerNorm(4)
        self.head = nn.Linear(12, 1)

    def forward(self, x: Any) -> Any:
        z = F.relu(self.bn(self.fc(x)))
        z = self.norm(self.group(self.bn_cumulative(z.reshape((-1, 3, 4)))))
        return self.head(z.reshape((-1, 12)))


@pytest.fixture(params=[np.float64, np.float32], ids=["float64", "float32"])
def dtype(request):
    """New parameters (and the batches) in this dtype for the test."""
    before = ag.get_default_dtype()
    ag.set_default_dtype(request.param)
    yield request.param
    ag.set_default_dtype(before)


class _Options(nn.Module):
    """The less common settings: a bidirectional two-layer LSTM from given initial states,
    a GRU with dropout between layers, cross-attention with bias_kv, add_zero_attn and
    other key/value widths, per-head weights, embeddings scaled by frequency, and the
    functional instance_norm, normalize and scaled_dot_product_attention (causal, dropout)."""

    def __init__(self) -> None:
        super().__init__()
        self.lstm = nn.LSTM(3, 4, num_layers=2, bidirectional=True, batch_first=True)
        self.gru = nn.GRU(8, 3, num_layers=2, dropout=0.3)
        self.cross = nn.MultiheadAttention(6, 2, dropout=0.2, add_bias_kv=True, add_zero_attn=True, kdim=3, vdim=8)
        self.table = nn.Embedding(7, 6, scale_grad_by_freq=True)
        self.head = nn.Linear(6, 2)

    def forward(self, x: Any) -> Any:
        batch = x.shape[0]
        h0 = (x[:, 0, :1] * 0 + 0.5).reshape((1, batch, 1)).broadcast_to((4, batch, 4)) * 1.0
        seq, _ = self.lstm(x, (h0, h0 * -1.0))  # (B, T, 8)
        seq = F.instance_norm(seq.swapaxes(1, 2)).swapaxes(1, 2)
        recurrent, _ = self.gru(seq.swapaxes(0, 1))  # time-major: (T, B, 3)
        queries = self.table(np.arange(12).reshape(2, 6) % 7)[:1].broadcast_to((batch, 6, 6)) * 1.0
        attended, weights = self.cross(queries, recurrent.swapaxes(0, 1), seq, average_attn_weights=False)
        q = F.normalize(attended, dim=-1).reshape((batch, 6, 2, 3)).swapaxes(1, 2)
        mixed = F.scaled_dot_product_attention(q, q, q, dropout_p=0.2, is_causal=True, rng=nn.init.default_generator())
        return self.head(mixed.swapaxes(1, 2).reshape((batch, 6, 6))).mean(axis=1) + weights.sum() * 1e-3


def _lstm_batch(rng: np.random.Generator) -> tuple[Any, Any]:
    return ag.tensor(rng.normal(size=(4, 6, 3))), ag.tensor(rng.normal(size=(4, 2)))


def _recurrent_batch(rng: np.random.Generator) -> tuple[Any, Any]:
    return ag.tensor(rng.normal(size=(3, 5, 3))), ag.tensor(rng.normal(size=(3, 2)))


def _token_batch(rng: np.random.Generator) -> tuple[Any, Any]:
    tokens = rng.integers(1, 11, size=(3, 6))
    tokens[0, rng.integers(3, 6) :] = 0  # padding (a different amount each batch) at the end of one sequence
    return ag.tensor(tokens), ag.tensor(rng.integers(0, 11, size=3 * 6))  # the next tokens, as class labels


def _bn_batch(rng: np.random.Generator) -> tuple[Any, Any]:
    return ag.tensor(rng.normal(2.0, 3.0, size=(8, 4))), ag.tensor(rng.normal(size=(8, 1)))


def _mse(model: nn.Module, x: Any, y: Any) -> Any:
    return F.mse_loss(model(x), y)


def _next_token(model: nn.Module, tokens: Any, targets: Any) -> Any:
    return F.cross_entropy(model(tokens).reshape((-1, 11)), targets)


MODELS: dict[str, tuple[Callable[[], nn.Module], Callable[..., Any], Callable[..., Any]]] = {
    "lstm": (_LstmModel, _lstm_batch, _mse),
    "gru_rnn": (_Recurrent, _recurrent_batch, _mse),
    "transformer": (_Transformer, _token_batch, _next_token),
    "batchnorm": (_BatchNormModel, _bn_batch, _mse),
    "options": (_Options, _lstm_batch, _mse),
}


def _training(name: str) -> tuple[nn.Module, optim.Optimizer, Callable[..., Any]]:
    make, _, loss_of = MODELS[name]
    nn.init.manual_seed(0)
    model = make()
    opt = optim.Adam(model.parameters(), lr=0.01)

    def step(x: Any, y: Any) -> Any:
        opt.zero_grad()
        loss = loss_of(model, x, y)
        loss.backward()
        opt.step()
        return loss

    return model, opt, step


def _batches(name: str, n: int) -> list[tuple[Any, Any]]:
    """``n`` batches; floating ones in the default dtype (the model's)."""
    rng = np.random.default_rng(1)
    dtype = ag.get_default_dtype()
    cast = lambda t: t.astype(dtype) if np.issubdtype(t.dtype, np.floating) else t  # noqa: E731
    return [tuple(cast(t) for t in MODELS[name][1](rng)) for _ in range(n)]


def _assert_same_state(model: nn.Module, twin: nn.Module) -> None:
    ours, theirs = model.state_dict(), twin.state_dict()
    assert list(ours) == list(theirs)
    for key in ours:
        np.testing.assert_array_equal(ours[key].data, theirs[key].data, err_msg=key)
    for (key, p), q in zip(model.named_parameters(), twin.parameters()):
        np.testing.assert_array_equal(p.grad.data, q.grad.data, err_msg=key)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_a_compiled_training_step_equals_the_eager_one_bit_for_bit(name, dtype):
    model, _, step = _training(name)
    twin, _, twin_step = _training(name)
    assert all(p.dtype == dtype for p in model.parameters())
    fast = ag.compile(step, fullgraph=True)  # anything a replay cannot follow is an error, not a quiet fallback
    nn.init.manual_seed(7)  # the dropout masks of the compiled run ...
    losses = [fast(x, y).item() for x, y in _batches(name, 6)]
    nn.init.manual_seed(7)  # ... and of the eager one: the same stream
    expected = [twin_step(x, y).item() for x, y in _batches(name, 6)]
    assert losses == expected
    assert len(set(losses)) == len(losses)
    _assert_same_state(model, twin)  # parameters and buffers (running statistics), then gradients
    assert fast.replays >= 3, fast.history  # calls 3 to 6 are replays
    assert fast.eager_because is None


def test_a_replay_updates_the_running_statistics_in_place():
    model, _, step = _training("batchnorm")
    twin, _, twin_step = _training("batchnorm")
    fast = ag.compile(step, fullgraph=True)
    batches = _batches("batchnorm", 6)
    for x, y in batches[:3]:  # recordings, until two agree and make the program
        fast(x, y)
        twin_step(x, y)
    replays = fast.replays
    layers = (model.bn, model.bn_cumulative)
    arrays = [(bn.running_mean.data, bn.running_var.data, bn.num_batches_tracked.data) for bn in layers]
    versions = [(bn.running_mean._version, bn.running_var._version) for bn in layers]
    for x, y in batches[3:]:
        before = [bn.running_mean.data.copy() for bn in layers]
        fast(x, y)
        twin_step(x, y)
        for bn, twin_bn, old in zip(layers, (twin.bn, twin.bn_cumulative), before):
            assert not np.array_equal(bn.running_mean.data, old)  # this replay moved the average ...
            for name in ("running_mean", "running_var", "num_batches_tracked"):  # ... as the eager step did
                np.testing.assert_array_equal(getattr(bn, name).data, getattr(twin_bn, name).data, err_msg=name)
    assert fast.replays == replays + 3  # these three calls were replays
    assert [bn.num_batches_tracked.item() for bn in layers] == [6, 6]
    for bn, same, (mean_version, var_version) in zip(layers, arrays, versions):
        assert all(a is b for a, b in zip(same, (bn.running_mean.data, bn.running_var.data, bn.num_batches_tracked.data)))
        assert bn.running_mean._version > mean_version and bn.running_var._version > var_version  # writes, seen


def test_eval_mode_records_again_and_then_uses_the_running_statistics():
    def scenario(compiled: bool) -> list[float]:
        model, _, step = _training("batchnorm")
        run = ag.compile(step, fullgraph=True) if compiled else step
        batches = _batches("batchnorm", 8)
        losses = [run(x, y).item() for x, y in batches[:4]]
        model.eval()  # the running statistics now normalise; nothing updates them
        losses += [run(x, y).item() for x, y in batches[4:]]
        if compiled:
            assert len(run.programs()) == 2, run.history
        return losses + model.bn.running_mean.data.tolist() + [model.bn.num_batches_tracked.item()]

    assert scenario(compiled=True) == scenario(compiled=False)


def test_replays_follow_a_new_seed_of_nns_generator_as_eager_steps_do():
    def scenario(compiled: bool) -> list[float]:
        _, _, step = _training("transformer")
        run = ag.compile(step, fullgraph=True) if compiled else step
        losses = []
        for k, (x, y) in enumerate(_batches("transformer", 8)):
            if k in (0, 5):  # re-seeding mid-run: the dropout masks start again from seed 3
                nn.init.manual_seed(3)
            losses.append(run(x, y).item())
        if compiled:
            assert run.replays >= 4, run.history
        return losses

    assert scenario(compiled=True) == scenario(compiled=False)


def test_dropouts_given_a_seed_replay_the_seeds_masks_as_eager_calls_do():
    w = ag.tensor(np.linspace(0.5, 2.0, 12), requires_grad=True)

    def step(x):
        h = (x * w).reshape((2, 2, 3))
        y = F.dropout(h, 0.5, rng=5) + F.alpha_dropout(h, 0.3, training=True, rng=6)
        z = F.scaled_dot_product_attention(y, y, h, dropout_p=0.5, rng=7)
        loss = (z * z).sum()
        loss.backward()
        return loss, w.grad

    fast = ag.compile(step, fullgraph=True)
    xs = [ag.tensor(np.random.default_rng(k).normal(size=12)) for k in range(5)]
    got = [(loss.item(), grad.data.copy()) for loss, grad in (fast(x) for x in xs)]
    w.grad = None
    want = [(loss.item(), grad.data.copy()) for loss, grad in (step(x) for x in xs)]
    for (a, g), (b, h) in zip(got, want):
        assert a == b
        np.testing.assert_array_equal(g, h)
    assert fast.replays >= 2, fast.history
