"""Run one of our layers and PyTorch's on the same state_dict and inputs, float64, and
compare outputs, input gradients and parameter gradients (rtol 1e-8)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pytest

import autograd_nn as ag

RTOL, ATOL = 1e-8, 1e-11


def torch_module() -> Any:
    """PyTorch (installed in CI: there, a skip here fails the run)."""
    return pytest.importorskip("torch")


def _flat(value: Any) -> list[Any]:
    """Tensors of a nested output (tuples of tensors and None), in order."""
    out, stack = [], [value]
    while stack:
        item = stack.pop()
        if isinstance(item, (tuple, list)):
            stack.extend(reversed(item))
        elif item is not None:
            out.append(item)
    return out


def assert_close(ours: Any, theirs: Any, what: str, rtol: float = RTOL, atol: float = ATOL) -> None:
    a = np.asarray(ours.data if isinstance(ours, ag.Tensor) else ours)
    b = theirs.detach().numpy() if hasattr(theirs, "detach") else np.asarray(theirs)
    assert a.shape == b.shape, f"{what}: shape {a.shape} vs PyTorch's {b.shape}"
    np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, err_msg=what)


def compare(
    ours: Any, theirs: Any, inputs: Sequence[np.ndarray], *, call: Callable[..., Any] | None = None,
    grad_inputs: Sequence[bool] | None = None, seed: int = 0, load: bool = True,
) -> tuple[Any, Any]:  # fmt: skip
    """Load PyTorch's state_dict into ``ours``, run both on ``inputs`` (float arrays require
    grad unless ``grad_inputs`` says otherwise), backpropagate the same random cotangents
    and compare everything. ``call(module, *inputs)`` runs a module (default: module(*inputs))."""
    torch = torch_module()
    if load:
        state = theirs.state_dict()
        assert list(ours.state_dict()) == list(state), "state_dict keys (and their order) differ from PyTorch's"
        ours.load_state_dict(state)
    call = call or (lambda module, *xs: module(*xs))
    grad_inputs = grad_inputs or [np.issubdtype(np.asarray(x).dtype, np.floating) for x in inputs]
    mine = [ag.tensor(x, requires_grad=g) if g else x for x, g in zip(inputs, grad_inputs)]
    torchs = [torch.tensor(x, requires_grad=g) if isinstance(x, np.ndarray) else x for x, g in zip(inputs, grad_inputs)]
    out_ours, out_theirs = _flat(call(ours, *mine)), _flat(call(theirs, *torchs))
    assert len(out_ours) == len(out_theirs), "a different number of outputs"
    rng = np.random.default_rng(seed)
    total_ours = total_theirs = 0
    for k, (a, b) in enumerate(zip(out_ours, out_theirs)):
        assert_close(a, b, f"output {k}")
        if b.requires_grad:
            v = rng.standard_normal(b.shape)
            total_ours = total_ours + (a * v).sum()
            total_theirs = total_theirs + (b * torch.tensor(v)).sum()
    total_ours.backward()
    total_theirs.backward()
    for k, (a, b) in enumerate(zip(mine, torchs)):
        if isinstance(a, ag.Tensor) and a.requires_grad:
            assert_close(a.grad, b.grad, f"gradient of input {k}")
    params = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        q = params[name]
        if q.grad is None:
            assert p.grad is None or not np.any(p.grad.data), f"{name}: PyTorch has no gradient"
        else:
            assert p.grad is not None, f"{name}: no gradient"
            assert_close(p.grad, q.grad, f"gradient of {name}")
    return out_ours, out_theirs
