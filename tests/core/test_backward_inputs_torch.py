"""``backward(inputs=)`` against torch itself: which tensors get a ``.grad``, its value, which
hooks run and which tensors retain their gradient afterwards, for every choice of inputs
(closed forms without torch: tests/core/test_backward_inputs.py)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import autograd_nn as ag
from autograd_nn import autograd

torch = pytest.importorskip("torch")

NAMES = ("x", "w", "u", "h", "q", "r", "loss")


def _build(lib: str):
    """The same graph in both libraries: h = x·w, q = sin(h) (retained), r = exp(w)
    (retained), L = Σ q·r + Σ x²; u requires grad but is not used. Hooks log their name."""
    make = (lambda d: ag.tensor(np.array(d), requires_grad=True)) if lib == "ag" else (
        lambda d: torch.tensor(np.array(d), requires_grad=True))  # fmt: skip
    calls: list[str] = []
    x, w, u = make([0.5, -1.0, 2.0]), make([1.5, 0.25, -0.75]), make([1.0, 2.0])
    h = x * w
    q = h.sin()
    q.retain_grad()
    r = w.exp()
    r.retain_grad()
    loss = (q * r).sum() + (x * x).sum()
    tensors = dict(zip(NAMES, (x, w, u, h, q, r, loss)))
    for name in ("x", "w", "h", "r"):
        tensors[name].register_hook(lambda g, name=name: calls.append(name))
    return tensors, calls


def _state(tensors, calls):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch warns on .grad of a non-leaf
        grads = {n: None if t.grad is None else np.asarray(t.grad.detach() if hasattr(t.grad, "detach") else t.grad.data)
                 for n, t in tensors.items()}  # fmt: skip
    retains = {n: bool(t.retains_grad) for n, t in tensors.items() if n in ("h", "q", "r", "loss")}
    return grads, retains, sorted(calls)


CHOICES = [("x",), ("w",), ("h",), ("h", "x"), ("q",), ("r", "x"), ("u",), ("u", "h"), ("x", "x"), ("loss",), ("w", "q")]


@pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph=True")  # torch's note on reference cycles
@pytest.mark.parametrize("create_graph", [False, True], ids=["plain", "create_graph"])
@pytest.mark.parametrize("chosen", CHOICES, ids=["+".join(c) for c in CHOICES])
def test_backward_with_inputs_does_what_torch_does(chosen, create_graph):
    ours, theirs = _build("ag"), _build("torch")
    for (tensors, _), backward in ((ours, lambda t, i: t.backward(inputs=i, create_graph=create_graph)),
                                   (theirs, lambda t, i: t.backward(inputs=i, create_graph=create_graph))):  # fmt: skip
        backward(tensors["loss"], [tensors[n] for n in chosen])
    (grads, retains, calls), (t_grads, t_retains, t_calls) = _state(*ours), _state(*theirs)
    assert retains == t_retains and calls == t_calls
    for name in NAMES:
        assert (grads[name] is None) == (t_grads[name] is None), name
        if grads[name] is not None:
            np.testing.assert_allclose(grads[name], t_grads[name], rtol=1e-12, err_msg=name)
    if create_graph and "x" in chosen:  # the gradient is differentiable in both: ∂(Σ ∂L/∂x)/∂w
        ours[0]["x"].grad.sum().backward(inputs=[ours[0]["u"], ours[0]["w"]])
        theirs[0]["x"].grad.sum().backward(inputs=[theirs[0]["u"], theirs[0]["w"]])
        np.testing.assert_allclose(ours[0]["w"].grad.data, theirs[0]["w"].grad.detach().numpy(), rtol=1e-12)


def test_autograd_backward_of_several_tensors_does_what_torch_does():
    (ours, _), (theirs, _) = _build("ag"), _build("torch")
    cotangent = np.array([1.0, -2.0, 0.5])
    autograd.backward([ours["h"], ours["loss"]], [cotangent, None], inputs={"x": ours["x"], "q": ours["q"]})
    torch.autograd.backward([theirs["h"], theirs["loss"]], [torch.from_numpy(cotangent), None],
                            inputs={"x": theirs["x"], "q": theirs["q"]})  # fmt: skip
    np.testing.assert_allclose(ours["x"].grad.data, theirs["x"].grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(ours["q"].grad.data, theirs["q"].grad.numpy(), rtol=1e-12)
    assert ours["w"].grad is None and theirs["w"].grad is None


@pytest.mark.parametrize("bad", ["empty", "no_grad"])
def test_bad_inputs_raise_the_error_torch_raises(bad):
    (ours, _), (theirs, _) = _build("ag"), _build("torch")
    our_inputs = [] if bad == "empty" else [ours["x"], ag.tensor([1.0])]
    their_inputs = [] if bad == "empty" else [theirs["x"], torch.tensor([1.0])]
    with pytest.raises(RuntimeError):
        theirs["loss"].backward(inputs=their_inputs)
    with pytest.raises(RuntimeError):
        ours["loss"].backward(inputs=our_inputs)
    assert ours["x"].grad is None and theirs["x"].grad is None


def test_grad_runs_the_same_nodes_and_hooks_as_torch():
    """grad(L, h) runs only what leads to h: q's retain_grad and h's hook, not r's nor w's;
    h's own derivative does not run (torch.autograd.grad captures δh at its node)."""
    (ours, our_calls), (theirs, their_calls) = _build("ag"), _build("torch")
    (dh,) = ag.grad(ours["loss"], ours["h"])
    (t_dh,) = torch.autograd.grad(theirs["loss"], theirs["h"])
    np.testing.assert_allclose(dh.data, t_dh.numpy(), rtol=1e-12)
    assert _state(ours, our_calls)[1:] == _state(theirs, their_calls)[1:]
    assert ours["r"].grad is None and theirs["r"].grad is None
    np.testing.assert_allclose(ours["q"].grad.data, theirs["q"].grad.numpy(), rtol=1e-12)
