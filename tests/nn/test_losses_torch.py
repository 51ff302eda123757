"""Losses (functional) against PyTorch: values and the gradients of every float argument
(inputs and, where PyTorch gives one, targets) in float64; float32 kept float32; and the
refusals PyTorch makes (BCE outside [0, 1] or nan, labels out of range)."""

from __future__ import annotations

import numpy as np
import pytest

import autograd_nn as ag
import autograd_nn.functional as F
from autograd_nn import nn

torch = pytest.importorskip("torch")
TF = torch.nn.functional
pytestmark = pytest.mark.filterwarnings("ignore:reduction. .mean. divides the total loss")

RNG = np.random.default_rng(12)
LOGITS = RNG.normal(size=(4, 3))
LOGITS_3D = RNG.normal(size=(2, 3, 5))
LABELS = np.array([0, 2, 1, 2])
LABELS_3D = np.array([[0, 1, 2, 1, -100], [2, 2, 0, -100, 1]])
CLASS_WEIGHTS = np.array([0.5, 2.0, 1.25])
PROBS = RNG.dirichlet(np.ones(3), size=4)
X, Y = RNG.normal(size=(3, 4)), RNG.normal(size=(3, 4)) * 2
P = RNG.uniform(0.05, 0.95, (3, 4))
T01 = RNG.uniform(0, 1, (3, 4))
LOGP = np.log(PROBS)
TARGET_WITH_ZEROS = np.array([[0.0, 0.3, 0.7], [0.5, 0.0, 0.5], [1.0, 0.0, 0.0], [0.2, 0.3, 0.5]])
A, B, C = RNG.normal(size=(3, 5, 4))
SIGNS = np.array([1, -1, 1, -1, -1])
LABEL_LESS = {"label_smoothing": 0.0}

# (id, function name, float arguments (each gets a gradient), constant arguments, keywords)
CASES = [
    ("nll", "nll_loss", [LOGP], [LABELS], {}),
    ("nll-weight-sum", "nll_loss", [LOGP], [LABELS], {"weight": CLASS_WEIGHTS, "reduction": "sum"}),
    ("nll-1d", "nll_loss", [LOGP[0]], [np.array(2)], {}),
    ("nll-3d-ignore", "nll_loss", [LOGITS_3D], [LABELS_3D], {"weight": CLASS_WEIGHTS}),
    ("nll-none-ignore", "nll_loss", [LOGP], [np.array([0, -1, 2, -1])], {"ignore_index": -1, "reduction": "none"}),
    ("ce-labels", "cross_entropy", [LOGITS], [LABELS], {}),
    ("ce-weight-smooth", "cross_entropy", [LOGITS], [LABELS], {"weight": CLASS_WEIGHTS, "label_smoothing": 0.2}),
    ("ce-3d-ignore-smooth", "cross_entropy", [LOGITS_3D], [LABELS_3D],
     {"weight": CLASS_WEIGHTS, "label_smoothing": 0.1}),
    ("ce-3d-sum", "cross_entropy", [LOGITS_3D], [np.abs(LABELS_3D) % 3], {"reduction": "sum"}),
    ("ce-1d", "cross_entropy", [LOGITS[0]], [np.array(1)], {"label_smoothing": 0.3}),
    ("ce-none-smooth-ignore", "cross_entropy", [LOGITS], [np.array([0, 5, 2, 5])],
     {"ignore_index": 5, "label_smoothing": 0.25, "reduction": "none"}),
    ("ce-probs", "cross_entropy", [LOGITS, PROBS], [], {}),
    ("ce-probs-weight-smooth", "cross_entropy", [LOGITS, PROBS], [],
     {"weight": CLASS_WEIGHTS, "label_smoothing": 0.2, "reduction": "sum"}),
    ("mse", "mse_loss", [X, Y], [], {}),
    ("mse-none", "mse_loss", [X, Y], [], {"reduction": "none"}),
    ("l1", "l1_loss", [X, Y], [], {}),
    ("l1-sum", "l1_loss", [X, Y], [], {"reduction": "sum"}),
    ("smooth-l1", "smooth_l1_loss", [X, Y], [], {}),
    ("smooth-l1-beta", "smooth_l1_loss", [X, Y], [], {"beta": 0.5, "reduction": "none"}),
    ("smooth-l1-beta0", "smooth_l1_loss", [X, Y], [], {"beta": 0.0}),
    ("huber", "huber_loss", [X, Y], [], {}),
    ("huber-delta", "huber_loss", [X, Y], [], {"delta": 2.5, "reduction": "sum"}),
    ("kl", "kl_div", [LOGP, PROBS], [], {"reduction": "batchmean"}),
    ("kl-zeros", "kl_div", [LOGP, TARGET_WITH_ZEROS], [], {"reduction": "sum"}),
    ("kl-mean", "kl_div", [LOGP, PROBS], [], {}),
    ("kl-log-target", "kl_div", [LOGP, np.log(TARGET_WITH_ZEROS + 0.1)], [], {"log_target": True, "reduction": "none"}),
    ("bce", "binary_cross_entropy", [P, T01], [], {}),
    ("bce-weight", "binary_cross_entropy", [P, T01], [], {"weight": RNG.uniform(0.5, 2, (3, 4)), "reduction": "sum"}),
    ("bce-edges", "binary_cross_entropy", [np.array([0.0, 1.0, 0.0, 1.0]), np.array([0.0, 1.0, 1.0, 0.3])], [], {}),
    ("bce-logits", "binary_cross_entropy_with_logits", [X * 5, T01], [], {}),
    ("bce-logits-weights", "binary_cross_entropy_with_logits", [X * 5, T01], [],
     {"weight": RNG.uniform(0.5, 2, (4,)), "pos_weight": np.array([0.5, 1.0, 2.0, 3.0]), "reduction": "none"}),
    ("cosine-similarity", "cosine_similarity", [A, B], [], {"dim": 1}),
    ("cosine-similarity-0", "cosine_similarity", [A, B], [], {"dim": 0}),
    ("pairwise-distance", "pairwise_distance", [A, B], [], {"p": 3.0, "keepdim": True}),
    ("cosine-embedding", "cosine_embedding_loss", [A, B], [SIGNS], {"margin": 0.1}),
    ("cosine-embedding-none", "cosine_embedding_loss", [A, B], [SIGNS], {"margin": -0.2, "reduction": "none"}),
    ("margin-ranking", "margin_ranking_loss", [A[:, 0], B[:, 0]], [SIGNS.astype(float)], {"margin": 0.3}),
    ("triplet", "triplet_margin_loss", [A, B, C], [], {"margin": 2.0}),
    ("triplet-swap-p1", "triplet_margin_loss", [A, B, C], [], {"margin": 1.5, "p": 1.0, "swap": True,
                                                               "reduction": "sum"}),
]  # fmt: skip


def _ours(name, floats, constants, kwargs, dtype):
    tensors = [ag.tensor(f.astype(dtype), requires_grad=True) for f in floats]
    constants = [c.astype(dtype) if c.dtype.kind == "f" else c for c in constants]
    out = getattr(F, name)(*tensors, *constants, **kwargs)
    return out, tensors


def _theirs(name, floats, constants, kwargs, dtype):
    tensors = [torch.tensor(f.astype(dtype), requires_grad=True) for f in floats]
    consts = [torch.tensor(c.astype(dtype) if c.dtype.kind == "f" else c) for c in constants]
    kw = {k: torch.tensor(v.astype(dtype)) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    return getattr(TF, name)(*tensors, *consts, **kw), tensors


@pytest.mark.parametrize(("name", "floats", "constants", "kwargs"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
def test_loss_matches_pytorch(name, floats, constants, kwargs, dtype):
    ours, our_inputs = _ours(name, floats, constants, kwargs, dtype)
    theirs, their_inputs = _theirs(name, floats, constants, kwargs, dtype)
    # NOTE: PyTorch clamps BCE's denominator at float(1e-12), 4e-9 away from 1e-12 in float64
    tol = {"rtol": 1e-8 if name == "binary_cross_entropy" else 1e-10, "atol": 1e-12}
    if dtype == np.float32:
        tol = {"rtol": 2e-5, "atol": 2e-6}
    assert ours.dtype == dtype
    assert ours.shape == tuple(theirs.shape)
    np.testing.assert_allclose(ours.data, theirs.detach().numpy(), **tol)
    cotangent = np.random.default_rng(0).normal(size=ours.shape).astype(dtype)
    ours.backward(cotangent)
    theirs.backward(torch.tensor(cotangent))
    for mine, other in zip(our_inputs, their_inputs):
        if other.grad is None:  # PyTorch gives this argument no gradient
            assert mine.grad is None or not np.any(mine.grad.data), f"{name}: a gradient PyTorch does not have"
            continue
        assert mine.grad is not None, f"{name}: no gradient where PyTorch has one"
        assert mine.grad.dtype == dtype
        # Where PyTorch's gradient is not finite (target of BCE at p = 0 or 1, target of kl_div
        # at y = 0) ours is the derivative of the clamped forward, finite: see docs/from_pytorch.md
        finite = np.isfinite(other.grad.numpy())
        assert np.all(np.isfinite(mine.grad.data))
        np.testing.assert_allclose(mine.grad.data[finite], other.grad.numpy()[finite], **tol)


def test_bce_target_gradient_at_the_edges_is_the_clamped_logs_slope():
    # ℓ = −[y·max(ln p, −100) + (1 − y)·max(ln(1 − p), −100)] is linear in y with slope
    # max(ln(1 − p), −100) − max(ln p, −100): ±100 at p = 1 / p = 0 (PyTorch: ±inf)
    p, y = ag.tensor([0.0, 1.0, 0.5]), ag.tensor([1.0, 0.0, 0.25], requires_grad=True)
    F.binary_cross_entropy(p, y, reduction="sum").backward()
    np.testing.assert_allclose(y.grad.data, [100.0, -100.0, 0.0], atol=1e-12)


def test_kl_div_target_gradient_at_zero_drops_the_log_term():
    # d/dy [y ln y − y x] = ln y + 1 − x; at y = 0 the y ln y term counts as 0 (PyTorch: nan)
    x, y = ag.tensor([-1.0, -2.0]), ag.tensor([0.0, 0.5], requires_grad=True)
    F.kl_div(x, y, reduction="sum").backward()
    np.testing.assert_allclose(y.grad.data, [1.0, np.log(0.5) + 1 + 2.0])


def test_cross_entropy_ignore_index_mean_divides_by_counted_weight():
    # hand-derived: two counted labels of weight 2 and 1 → (2·ℓ₀ + 1·ℓ₂) / 3
    z = np.log(np.array([[0.5, 0.25, 0.25], [0.1, 0.2, 0.7], [0.2, 0.2, 0.6]]))
    loss = F.nll_loss(ag.tensor(z), np.array([1, -100, 0]), weight=np.array([1.0, 2.0, 3.0]))
    assert np.isclose(loss.item(), (2 * -np.log(0.25) + 1 * -np.log(0.2)) / 3)


def test_binary_cross_entropy_refuses_values_outside_unit_interval_and_nan():
    with pytest.raises(ValueError, match=r"binary_cross_entropy: input probabilities must lie in \[0, 1\]"):
        F.binary_cross_entropy(ag.tensor([0.5, 1.2]), np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match="must lie in"):
        F.binary_cross_entropy(ag.tensor([0.5, np.nan]), np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match="binary_cross_entropy: input has shape"):
        F.binary_cross_entropy(ag.tensor([0.5, 0.5]), np.array([[0.0, 1.0]]))


def test_bad_arguments_name_the_loss_and_what_was_expected():
    logits = ag.tensor(LOGITS)
    with pytest.raises(ValueError, match=r"cross_entropy: class labels must be in \[0, 3\)"):
        F.cross_entropy(logits, np.array([0, 3, 1, 1]))
    with pytest.raises(ValueError, match=r"cross_entropy: class labels must have shape \(4,\)"):
        F.cross_entropy(logits, np.array([0, 1]))
    with pytest.raises(TypeError, match="cross_entropy: class labels must be integers"):
        F.cross_entropy(logits, np.array([0.0, 1.0, 1.0, 2.0]))
    with pytest.raises(ValueError, match=r"cross_entropy: weight must have shape \(3,\)"):
        F.cross_entropy(logits, LABELS, weight=np.ones(2))
    with pytest.raises(ValueError, match="cross_entropy: label_smoothing must be in"):
        F.cross_entropy(logits, LABELS, label_smoothing=1.5)
    with pytest.raises(ValueError, match="nll_loss: reduction must be 'mean', 'sum' or 'none'"):
        F.nll_loss(logits, LABELS, reduction="avg")
    with pytest.raises(ValueError, match="cosine_embedding_loss: target must hold 1 or -1"):
        F.cosine_embedding_loss(ag.tensor(A), ag.tensor(B), np.zeros(5))
    with pytest.raises(ValueError, match="huber_loss: delta must be positive"):
        F.huber_loss(ag.tensor(X), Y, delta=0.0)
    with pytest.raises(ValueError, match="smooth_l1_loss: beta must be non-negative"):
        F.smooth_l1_loss(ag.tensor(X), Y, beta=-1.0)
    with pytest.raises(ValueError, match="l1_loss: input has shape"):
        F.l1_loss(ag.tensor(X), Y[:, :2])


# (our class, constructor arguments, float inputs, constant inputs); torch's class has the same name
MODULES = [
    (nn.MSELoss, {"reduction": "sum"}, [X, Y], []),
    (nn.L1Loss, {}, [X, Y], []),
    (nn.SmoothL1Loss, {"beta": 0.5}, [X, Y], []),
    (nn.HuberLoss, {"delta": 2.0, "reduction": "none"}, [X, Y], []),
    (nn.NLLLoss, {"weight": CLASS_WEIGHTS, "ignore_index": 1}, [LOGP], [LABELS]),
    (nn.CrossEntropyLoss, {"weight": CLASS_WEIGHTS, "label_smoothing": 0.1}, [LOGITS_3D], [LABELS_3D]),
    (nn.CrossEntropyLoss, {"reduction": "sum"}, [LOGITS, PROBS], []),
    (nn.KLDivLoss, {"reduction": "batchmean", "log_target": True}, [LOGP, np.log(PROBS)], []),
    (nn.BCELoss, {"weight": np.array([1.0, 2.0, 0.5, 1.0])}, [P, T01], []),
    (nn.BCEWithLogitsLoss, {"weight": np.array([1.0, 2.0, 0.5, 1.0]), "pos_weight": np.array([3.0, 1.0, 1.0, 0.5])},
     [X, T01], []),
    (nn.CosineEmbeddingLoss, {"margin": 0.2}, [A, B], [SIGNS]),
    (nn.MarginRankingLoss, {"margin": 0.1, "reduction": "none"}, [A[:, 1], B[:, 1]], [SIGNS.astype(float)]),
    (nn.TripletMarginLoss, {"margin": 2.0, "swap": True}, [A, B, C], []),
    (nn.CosineSimilarity, {"dim": 0}, [A, B], []),
    (nn.PairwiseDistance, {"p": 1.0, "keepdim": True}, [A, B], []),
]  # fmt: skip


@pytest.mark.parametrize(("cls", "kwargs", "floats", "constants"), MODULES, ids=[m[0].__name__ for m in MODULES])
def test_loss_modules_match_pytorch(cls, kwargs, floats, constants):
    ours = cls(**kwargs)
    theirs = getattr(torch.nn, cls.__name__)(**{k: torch.tensor(v) if isinstance(v, np.ndarray) else v
                                        for k, v in kwargs.items()})  # fmt: skip
    assert list(ours.state_dict()) == list(theirs.state_dict())  # weight, pos_weight: buffers
    for key, value in theirs.state_dict().items():
        np.testing.assert_array_equal(ours.state_dict()[key].data, value.numpy())
    our_inputs = [ag.tensor(f, requires_grad=True) for f in floats]
    their_inputs = [torch.tensor(f, requires_grad=True) for f in floats]
    out = ours(*our_inputs, *constants)
    expected = theirs(*their_inputs, *[torch.tensor(c) for c in constants])
    np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=1e-10, atol=1e-12)
    out.sum().backward()
    expected.sum().backward()
    for mine, other in zip(our_inputs, their_inputs):
        np.testing.assert_allclose(mine.grad.data, other.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_loss_modules_refuse_an_unknown_reduction_and_repr_their_options():
    with pytest.raises(ValueError, match="NLLLoss: reduction must be one of 'mean', 'sum', 'none', got 'avg'"):
        nn.NLLLoss(reduction="avg")
    with pytest.raises(ValueError, match="L1Loss: reduction must be one of"):
        nn.L1Loss(reduction="batchmean")
    assert nn.KLDivLoss(reduction="batchmean").reduction == "batchmean"
    assert repr(nn.L1Loss(reduction="sum")) == "L1Loss(reduction='sum')"
