"""``from_torch`` / ``to_torch`` on the activation modules and losses (``interop/_functions.py``):
each, built in PyTorch with settings off their defaults, converts both ways to a module of
the same class and settings that gives PyTorch's outputs and input gradients (float64)."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="the PyTorch parity tests need torch: pip install torch")

import autograd_nn as ag  # noqa: E402
from autograd_nn.interop._functions import FUNCTIONS  # noqa: E402

D = torch.float64
ACTIVATIONS = {
    "CELU": lambda: torch.nn.CELU(alpha=0.7), "ELU": lambda: torch.nn.ELU(alpha=0.4),
    "GELU": lambda: torch.nn.GELU(approximate="tanh"), "GLU": lambda: torch.nn.GLU(dim=0),
    "Hardsigmoid": torch.nn.Hardsigmoid, "Hardswish": torch.nn.Hardswish,
    "Hardtanh": lambda: torch.nn.Hardtanh(-0.5, 0.25), "LogSigmoid": torch.nn.LogSigmoid,
    "LogSoftmax": lambda: torch.nn.LogSoftmax(dim=0), "Mish": torch.nn.Mish,
    "PReLU": lambda: torch.nn.PReLU(num_parameters=4, init=0.3, dtype=D), "ReLU6": torch.nn.ReLU6,
    "SELU": torch.nn.SELU, "SiLU": torch.nn.SiLU, "Softmin": lambda: torch.nn.Softmin(dim=1),
    "Softplus": lambda: torch.nn.Softplus(beta=2.0, threshold=3.0), "Softsign": torch.nn.Softsign,
}  # fmt: skip


def _rng():
    return np.random.default_rng(5)


# name -> (module, the inputs as arrays: the first is differentiated)
LOSSES = {
    "BCELoss": lambda r: (torch.nn.BCELoss(weight=torch.from_numpy(r.random(4) + 0.5), reduction="sum"),
                          [r.uniform(0.05, 0.95, (5, 4)), r.random((5, 4))]),
    "BCEWithLogitsLoss": lambda r: (torch.nn.BCEWithLogitsLoss(weight=torch.from_numpy(r.random(4) + 0.5),
                                                               pos_weight=torch.from_numpy(r.random(4) + 1.0)),
                                    [r.standard_normal((5, 4)), r.random((5, 4))]),
    "CrossEntropyLoss": lambda r: (torch.nn.CrossEntropyLoss(weight=torch.from_numpy(r.random(4) + 0.5),
                                                             ignore_index=1, label_smoothing=0.1),
                                   [r.standard_normal((5, 4)), np.array([0, 1, 3, 2, 3])]),
    "CosineEmbeddingLoss": lambda r: (torch.nn.CosineEmbeddingLoss(margin=0.2),
                                      [r.standard_normal((5, 4)), r.standard_normal((5, 4)), np.array([1, -1, 1, -1, 1.0])]),
    "CosineSimilarity": lambda r: (torch.nn.CosineSimilarity(dim=0, eps=1e-6),
                                   [r.standard_normal((5, 4)), r.standard_normal((5, 4))]),
    "HuberLoss": lambda r: (torch.nn.HuberLoss(delta=0.5), [r.standard_normal((5, 4)), r.standard_normal((5, 4))]),
    "KLDivLoss": lambda r: (torch.nn.KLDivLoss(reduction="batchmean", log_target=True),
                            [np.log(r.dirichlet(np.ones(4), 5)), np.log(r.dirichlet(np.ones(4), 5))]),
    "L1Loss": lambda r: (torch.nn.L1Loss(reduction="none"), [r.standard_normal((5, 4)), r.standard_normal((5, 4))]),
    "MarginRankingLoss": lambda r: (torch.nn.MarginRankingLoss(margin=0.3),
                                    [r.standard_normal(5), r.standard_normal(5), np.array([1, -1, 1, 1, -1.0])]),
    "NLLLoss": lambda r: (torch.nn.NLLLoss(weight=torch.from_numpy(r.random(4) + 0.5), ignore_index=2),
                          [np.log(r.dirichlet(np.ones(4), 5)), np.array([0, 2, 3, 1, 2])]),
    "PairwiseDistance": lambda r: (torch.nn.PairwiseDistance(p=3.0, keepdim=True),
                                   [r.standard_normal((5, 4)), r.standard_normal((5, 4))]),
    "SmoothL1Loss": lambda r: (torch.nn.SmoothL1Loss(beta=0.4), [r.standard_normal((5, 4)), r.standard_normal((5, 4))]),
    "TripletMarginLoss": lambda r: (torch.nn.TripletMarginLoss(margin=0.7, p=1.0, swap=True),
                                    [r.standard_normal((5, 4)), r.standard_normal((5, 4)), r.standard_normal((5, 4))]),
}  # fmt: skip


def test_every_bridge_of_the_file_is_tested_here():
    assert sorted(b.theirs for b in FUNCTIONS) == sorted({*ACTIVATIONS, *LOSSES})


def _run_torch(module, arrays):
    inputs = [torch.from_numpy(a) for a in arrays]
    inputs[0].requires_grad_(True)
    out = module(*inputs)
    out.backward(torch.ones_like(out))
    return out.detach().numpy(), inputs[0].grad.numpy()


def _run_ours(module, arrays):
    inputs = [ag.tensor(a) for a in arrays]
    inputs[0].requires_grad = True
    out = module(*inputs)
    out.backward(np.ones(out.shape))
    return out.data, inputs[0].grad.data


@pytest.mark.parametrize("name", sorted({*ACTIVATIONS, *LOSSES}))
def test_a_converted_module_computes_as_pytorch_both_ways(name):
    if name in ACTIVATIONS:
        theirs, arrays = ACTIVATIONS[name](), [_rng().standard_normal((6, 4))]
    else:
        theirs, arrays = LOSSES[name](_rng())
    ours = ag.from_torch(theirs)
    assert type(ours).__name__ == name
    back = ag.to_torch(ours)
    assert type(back) is type(theirs)
    assert sorted(back.state_dict()) == sorted(theirs.state_dict()) == sorted(ours.state_dict())
    want_out, want_grad = _run_torch(theirs, arrays)
    # (the functions' own parity is tested at their ops; a setting lost in conversion moves results by far more)
    for got_out, got_grad in (_run_ours(ours, arrays), _run_torch(back, arrays)):
        np.testing.assert_allclose(got_out, want_out, rtol=1e-7, atol=1e-7)
        np.testing.assert_allclose(got_grad, want_grad, rtol=1e-7, atol=1e-7)
