"""MultiheadAttention, TransformerEncoderLayer, Embedding and the attention functionals
against PyTorch (same state_dict, float64, rtol 1e-8), and their checks without it."""

from __future__ import annotations

import numpy as np
import pytest
from parity import assert_close, compare, torch_module

import autograd_nn as ag
from autograd_nn import functional as F
from autograd_nn import nn
from autograd_nn.testing import gradcheck, gradgradcheck

RNG = np.random.default_rng(3)
E, HEADS, L, S, N = 8, 2, 4, 5, 3


def pair(name, *args, **kwargs):
    torch = torch_module()
    torch.manual_seed(0)
    theirs = getattr(torch.nn, name)(*args, dtype=torch.float64, **kwargs)
    with torch.no_grad():  # PyTorch starts biases at zero: make them count
        for p in theirs.parameters():
            p.add_(torch.tensor(RNG.standard_normal(tuple(p.shape)) * 0.3))
    return getattr(nn, name)(*args, **kwargs), theirs


def attend(module, q, k, v, *masks, **options):
    masks = dict(zip(("key_padding_mask", "attn_mask"), masks))
    return module(q, k, v, **masks, **options)


@pytest.mark.parametrize(
    "options", [{}, {"batch_first": True}, {"bias": False}, {"add_bias_kv": True}, {"add_zero_attn": True},
                {"kdim": 3, "vdim": 6}],
    ids=["plain", "batch-first", "no-bias", "bias-kv", "zero-attn", "kdim-vdim"],
)  # fmt: skip
@pytest.mark.parametrize("average", [True, False])
def test_multihead_attention_matches_pytorch(options, average):
    ours, theirs = pair("MultiheadAttention", E, HEADS, **options)
    first = options.get("batch_first", False)
    shape = lambda length, width: (N, length, width) if first else (length, N, width)  # noqa: E731
    q = RNG.standard_normal(shape(L, E))
    k, v = RNG.standard_normal(shape(S, options.get("kdim", E))), RNG.standard_normal(shape(S, options.get("vdim", E)))
    padding = RNG.random((N, S)) < 0.3
    padding[:, 0] = False  # every query keeps a key
    causalish = RNG.random((L, S)) < 0.3
    causalish[:, 0] = False  # (a query whose keys are all blocked gets nan weights, in both libraries)
    call = lambda m, *xs: attend(m, *xs, average_attn_weights=average)  # noqa: E731
    compare(ours, theirs, [q, k, v], call=call)
    for p, t in zip(ours.parameters(), theirs.parameters()):
        p.grad, t.grad = None, None
    compare(ours, theirs, [q, k, v, padding, causalish], call=call, load=False)


def test_multihead_self_attention_float_masks_and_per_head_masks_match_pytorch():
    ours, theirs = pair("MultiheadAttention", E, HEADS)
    x = RNG.standard_normal((L, N, E))
    per_head = RNG.standard_normal((N * HEADS, L, L))
    self_attend = lambda m, x, mask: m(x, x, x, attn_mask=mask)  # noqa: E731
    compare(ours, theirs, [x, per_head], call=self_attend, grad_inputs=[True, True])
    for p, t in zip(ours.parameters(), theirs.parameters()):
        p.grad, t.grad = None, None
    no_weights = lambda m, x: m(x, x, x, need_weights=False)  # noqa: E731
    out, _ = compare(ours, theirs, [x], call=no_weights, load=False)
    assert len(out) == 1  # the weights are None


def test_multihead_attention_unbatched_and_its_initialisation():
    ours, theirs = pair("MultiheadAttention", E, HEADS)
    q, kv = RNG.standard_normal((L, E)), RNG.standard_normal((S, E))
    compare(ours, theirs, [q, kv, kv, RNG.random(S) < 0.2], call=attend)
    fresh = nn.MultiheadAttention(E, HEADS)
    bound = np.sqrt(6 / (E + 3 * E))  # Xavier uniform over the stacked (3E, E) projection, as PyTorch
    assert np.abs(fresh.in_proj_weight.data).max() <= bound and np.all(fresh.in_proj_bias.data == 0)
    assert np.all(fresh.out_proj.bias.data == 0) and list(fresh.state_dict()) == list(theirs.state_dict())


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu", "callable"])
def test_transformer_encoder_layer_matches_pytorch(norm_first, activation):
    torch = torch_module()
    act_ours, act_theirs = (F.tanh, torch.tanh) if activation == "callable" else (activation, activation)
    options = {"dim_feedforward": 16, "dropout": 0.0, "norm_first": norm_first, "batch_first": True}
    torch.manual_seed(0)
    theirs = torch.nn.TransformerEncoderLayer(E, HEADS, activation=act_theirs, dtype=torch.float64, **options)
    ours = nn.TransformerEncoderLayer(E, HEADS, activation=act_ours, **options)
    x = RNG.standard_normal((N, L, E))
    padding = np.zeros((N, L), dtype=bool)
    padding[0, -1] = True
    causal = np.triu(np.ones((L, L), dtype=bool), 1)
    theirs.train()  # PyTorch's fused inference path differs only in speed; training mode runs its Python code
    compare(ours, theirs, [x, causal, padding], call=lambda m, x, mask, pad: m(x, src_mask=mask, src_key_padding_mask=pad))


@pytest.mark.parametrize("norm", [False, True])
def test_transformer_encoder_stack_matches_pytorch(norm):
    torch = torch_module()
    options = {"dim_feedforward": 16, "dropout": 0.0, "batch_first": True}
    torch.manual_seed(0)
    theirs = torch.nn.TransformerEncoder(
        torch.nn.TransformerEncoderLayer(E, HEADS, dtype=torch.float64, **options), 3,
        norm=torch.nn.LayerNorm(E, dtype=torch.float64) if norm else None, enable_nested_tensor=False,
    )  # fmt: skip
    with torch.no_grad():  # the copies start equal in both libraries: make each layer its own
        for p in theirs.parameters():
            p.add_(torch.tensor(RNG.standard_normal(tuple(p.shape)) * 0.3))
    ours = nn.TransformerEncoder(nn.TransformerEncoderLayer(E, HEADS, **options), 3, norm=nn.LayerNorm(E) if norm else None)
    x = RNG.standard_normal((N, L, E))
    padding = np.zeros((N, L), dtype=bool)
    padding[1, -2:] = True
    causal = np.triu(np.ones((L, L), dtype=bool), 1)
    theirs.train()
    compare(ours, theirs, [x, causal, padding], call=lambda m, x, mask, pad: m(x, mask=mask, src_key_padding_mask=pad))


def test_transformer_encoder_copies_its_layer_and_refuses_bad_arguments():
    layer = nn.TransformerEncoderLayer(E, HEADS, dim_feedforward=16)
    stack = nn.TransformerEncoder(layer, 2)
    first, second = stack.layers
    assert first is not layer and first.linear1.weight is not second.linear1.weight  # deep copies ...
    np.testing.assert_array_equal(first.linear1.weight.data, layer.linear1.weight.data)  # ... of the same weights
    assert stack.num_layers == 2 and stack.norm is None and len(list(stack.parameters())) == 2 * len(list(layer.parameters()))
    with pytest.raises(ValueError, match="num_layers must be a positive int, got 0"):
        nn.TransformerEncoder(layer, 0)
    with pytest.raises(TypeError, match="encoder_layer must be an nn.Module"):
        nn.TransformerEncoder("layer", 2)


def test_transformer_encoder_layer_dropout_and_activation_modules():
    layer = nn.TransformerEncoderLayer(E, HEADS, dim_feedforward=16, activation=nn.Tanh())  # dropout=0.1
    assert isinstance(dict(layer.named_children())["activation"], nn.Tanh)
    # The reference: the same weights with no dropout at all, so "no dropout" has a value to be compared with.
    reference = nn.TransformerEncoderLayer(E, HEADS, dim_feedforward=16, dropout=0.0, activation=nn.Tanh())
    reference.load_state_dict(layer.state_dict())
    reference.eval()
    x = RNG.standard_normal((L, N, E))
    assert not np.allclose(layer(x).data, reference(x).data)  # training mode: dropout acts
    layer.eval()
    np.testing.assert_array_equal(layer(x).data, reference(x).data)  # eval mode: it does not
    with pytest.raises(RuntimeError, match="activation should be relu/gelu, not swish"):
        nn.TransformerEncoderLayer(E, HEADS, activation="swish")


def test_attention_layers_pass_gradcheck_and_gradgradcheck():
    mha = nn.MultiheadAttention(4, 2)
    x = ag.tensor(RNG.standard_normal((3, 1, 4)), requires_grad=True)
    fn = lambda x, w: mha(x, x, x)  # noqa: E731
    assert gradcheck(fn, [x, mha.in_proj_weight]) and gradgradcheck(fn, [x, mha.in_proj_weight])
    layer = nn.TransformerEncoderLayer(4, 2, dim_feedforward=6, dropout=0.0, activation="gelu")
    fn = lambda x, w: layer(x)  # noqa: E731
    assert gradcheck(fn, [x, layer.linear1.weight]) and gradgradcheck(fn, [x, layer.linear1.weight])


def test_multihead_attention_refuses_what_pytorch_refuses():
    with pytest.raises(ValueError, match="embed_dim \\(6\\) must be divisible by num_heads \\(4\\)"):
        nn.MultiheadAttention(6, 4)
    mha = nn.MultiheadAttention(E, HEADS)
    x = np.zeros((L, N, E))
    with pytest.raises(RuntimeError, match="is_causal=True is a hint"):
        mha(x, x, x, is_causal=True)
    with pytest.raises(ValueError, match="all be 3-D \\(batched\\) or 2-D"):
        mha(x, x[0], x[0])


# ----------------------------------------------------------------------------- Embedding
@pytest.mark.parametrize(
    "options", [{}, {"padding_idx": 2}, {"padding_idx": -1}, {"scale_grad_by_freq": True},
                {"max_norm": 1.5}, {"max_norm": 1.0, "norm_type": 1.0, "padding_idx": 0}],
)  # fmt: skip
def test_embedding_matches_pytorch(options):
    torch = torch_module()
    ours, theirs = nn.Embedding(7, 3, **options), torch.nn.Embedding(7, 3, dtype=torch.float64, **options)
    indices = np.array([[0, 2, 2, 6], [1, 2, 6, 5]])
    compare(ours, theirs, [indices])
    assert_close(ours.weight, theirs.weight, "weight after max_norm's renormalisation")
    assert repr(ours) == repr(theirs)


def test_embedding_padding_row_starts_at_zero_and_from_pretrained_freezes():
    table = nn.Embedding(5, 2, padding_idx=3)
    assert np.all(table.weight.data[3] == 0) and np.any(table.weight.data != 0)
    table(np.array([3, 3, 1])).sum().backward()
    assert np.all(table.weight.grad.data[3] == 0) and np.all(table.weight.grad.data[1] == 1)
    frozen = nn.Embedding.from_pretrained(np.eye(3))
    assert not frozen.weight.requires_grad and frozen(np.array([2])).data.tolist() == [[0.0, 0.0, 1.0]]
    with pytest.raises(IndexError, match=r"embedding: indices must be in \[0, 5\)"):
        table(np.array([5]))
    with pytest.raises(TypeError, match="indices must be integers"):
        table(np.array([1.0]))


# ------------------------------------------------------------------------- functionals
def test_scaled_dot_product_attention_matches_pytorch():
    torch = torch_module()
    TF = torch.nn.functional
    q, k, v = RNG.standard_normal((2, 3, 4, 5)), RNG.standard_normal((2, 3, 6, 5)), RNG.standard_normal((2, 3, 6, 2))
    bool_mask = RNG.random((4, 6)) < 0.6
    bool_mask[2] = False  # a query that sees no key: weights 0, as PyTorch
    cases = [{}, {"is_causal": True}, {"attn_mask": bool_mask}, {"attn_mask": RNG.standard_normal((4, 6))},
             {"scale": 0.3}]  # fmt: skip
    for case in cases:
        mine = [ag.tensor(a, requires_grad=True) for a in (q, k, v)]
        theirs = [torch.tensor(a, requires_grad=True) for a in (q, k, v)]
        torch_case = {key: torch.tensor(val) if isinstance(val, np.ndarray) else val for key, val in case.items()}
        out, expected = F.scaled_dot_product_attention(*mine, **case), TF.scaled_dot_product_attention(*theirs, **torch_case)
        assert_close(out, expected, f"sdpa {sorted(case)}")
        cotangent = RNG.standard_normal(out.shape)
        out.backward(cotangent)
        expected.backward(torch.tensor(cotangent))
        for a, b in zip(mine, theirs):
            assert_close(a.grad, b.grad, f"sdpa δ {sorted(case)}")
    grouped = RNG.standard_normal((2, 1, 6, 5))
    assert_close(F.scaled_dot_product_attention(q, grouped, grouped, enable_gqa=True),
                 TF.scaled_dot_product_attention(*map(torch.tensor, (q, grouped, grouped)), enable_gqa=True), "gqa")  # fmt: skip


def test_attention_dropout_and_alpha_dropout_keep_their_promises():
    q = RNG.standard_normal((1, 50, 4))
    plain = F.scaled_dot_product_attention(q, q, q).data
    dropped = F.scaled_dot_product_attention(q, q, q, dropout_p=0.5, rng=1).data
    again = F.scaled_dot_product_attention(q, q, q, dropout_p=0.5, rng=1).data
    np.testing.assert_array_equal(dropped, again)
    assert not np.allclose(dropped, plain)
    x = RNG.standard_normal(200_000)
    y = F.alpha_dropout(x, 0.3, training=True, rng=0).data
    assert abs(y.mean()) < 0.01 and abs(y.std() - 1) < 0.01  # SELU's fixed point kept
    values, counts = np.unique(y, return_counts=True)
    assert np.isclose(counts.max() / y.size, 0.3, atol=0.01) and counts.max() > 100 * np.sort(counts)[-2]  # dropped: one value
    np.testing.assert_array_equal(F.alpha_dropout(x, 0.3).data, x)  # training=False by default, as PyTorch


def test_gelu_matches_pytorch():
    torch = torch_module()
    z = RNG.standard_normal(50) * 3
    for approximate in ("none", "tanh"):
        ours, theirs = ag.tensor(z, requires_grad=True), torch.tensor(z, requires_grad=True)
        F.gelu(ours, approximate).sum().backward()
        torch.nn.functional.gelu(theirs, approximate=approximate).sum().backward()
        assert_close(F.gelu(z, approximate), torch.nn.functional.gelu(torch.tensor(z), approximate=approximate), approximate)
        assert_close(ours.grad, theirs.grad, f"gelu δ {approximate}")


def _alpha_dropout_map(x, y):
    """(the dropped units' value, a, b) of an alpha-dropout output: kept units are a·x + b."""
    values, counts = np.unique(y, return_counts=True)
    dropped = values[counts.argmax()]
    kept = y != dropped
    return (dropped, *np.polyfit(x[kept], y[kept], 1))


def test_alpha_dropout_uses_pytorchs_affine_map():
    torch = torch_module()
    x = RNG.standard_normal(20_000)
    for p in (0.2, 0.5):
        ours = F.alpha_dropout(x, p, training=True, rng=5).data
        theirs = torch.nn.functional.alpha_dropout(torch.tensor(x), p, training=True).numpy()
        np.testing.assert_allclose(_alpha_dropout_map(x, ours), _alpha_dropout_map(x, theirs), rtol=1e-9, err_msg=f"p={p}")


def test_embedding_reset_parameters_redraws_and_keeps_the_padding_row_zero():
    table = nn.Embedding(50, 4, padding_idx=7)
    table.reset_parameters(np.random.default_rng(0))
    weights = table.weight.data
    assert np.all(weights[7] == 0) and abs(weights.std() - 1) < 0.2  # N(0, 1) elsewhere
    before = weights.copy()
    table.reset_parameters(np.random.default_rng(1))
    assert not np.array_equal(before, table.weight.data) and np.all(table.weight.data[7] == 0)
