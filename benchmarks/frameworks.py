"""The same workloads in autograd_nn and in PyTorch eager (the second reference).

Two ways to write a training step, chosen with ``--api``:

- ``core`` (default): the Tensor API only: ``functional.linear`` (z = x Wᵀ + b), the
  activation, the loss, ``backward()``, and a hand-written in-place SGD update on the
  parameters' arrays. It depends on nothing but the core engine.
- ``nn``: the PyTorch-style user code, ``nn.Sequential(nn.Linear, ...)`` and
  ``optim.SGD``, written once and run against either library's ``nn``/``optim``
  (``nn_mlp_step``). Switch to it once autograd_nn.nn and autograd_nn.optim exist.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
from specs import CHAIN_CYCLES, MLP

Params = list[tuple[np.ndarray, np.ndarray]]


# ------------------------------------------------------------------- autograd_nn
def autograd_mlp_step(
    spec: MLP,
    params: Params,
    x: np.ndarray,
    y: np.ndarray,
    api: str = "core",
    ag: ModuleType | None = None,
    compiled: bool = False,
) -> Callable[[], Any]:
    """The training step; ``compiled``: the same step through ``autograd_nn.compile`` (recorded
    on its first calls, then replayed)."""
    ag = ag or importlib.import_module("autograd_nn")
    if compiled:
        step = autograd_mlp_step(spec, params, x, y, api, ag)
        fast = ag.compile(step)
        fast.parameters = step.parameters  # type: ignore[attr-defined]
        return fast
    if api == "nn":
        return nn_mlp_step(spec, params, x, y, ag.nn, ag.optim, ag.functional, ag.tensor, x.dtype)
    F = ag.functional
    layers = [(ag.tensor(W, requires_grad=True), ag.tensor(b, requires_grad=True)) for W, b in params]
    flat = [p for layer in layers for p in layer]
    inputs, targets = ag.tensor(x), (ag.tensor(y) if spec.loss == "mse" else y)
    activation = F.sigmoid if spec.activation == "sigmoid" else F.relu
    loss_fn = F.mse_loss if spec.loss == "mse" else F.cross_entropy
    last = len(layers) - 1
    lr = spec.lr

    def step() -> Any:
        h = inputs
        for layer, (W, b) in enumerate(layers):
            h = F.linear(h, W, b)
            if layer < last:
                h = activation(h)
        loss = loss_fn(h, targets)
        loss.backward()
        for p in flat:  # SGD by hand: W ← W − η ∂C/∂W, in place
            p.data -= lr * p.grad.data
            p.grad = None
        return loss

    step.parameters = lambda: [(W.data, b.data) for W, b in layers]  # type: ignore[attr-defined]
    return step


def autograd_chain(
    x: np.ndarray,
    c: np.ndarray,
    d: np.ndarray,
    seed: np.ndarray,
    cycles: int = CHAIN_CYCLES,
    ag: ModuleType | None = None,
    anomaly: bool = False,
    compiled: bool = False,
) -> Callable[[], Any]:
    """y ← tanh(y·c + d) ``cycles`` times, then backward; returns δx. ``anomaly=True``
    runs the step under ``detect_anomaly()`` (what the mode costs while it is on);
    ``compiled=True`` through ``autograd_nn.compile``."""
    ag = ag or importlib.import_module("autograd_nn")
    leaf = ag.tensor(x, requires_grad=True)

    def step() -> Any:
        y = leaf
        for _ in range(cycles):
            y = (y * c + d).tanh()
        y.backward(seed)
        g = leaf.grad
        leaf.grad = None
        return g.data

    if compiled:
        return ag.compile(step)
    if not anomaly:
        return step

    def watched() -> Any:
        with ag.detect_anomaly():
            return step()

    return watched


def load_other_checkout(root: Path, name: str = "autograd_nn_base") -> ModuleType:
    """Import the autograd_nn package of another checkout under another name, so two
    versions can be timed side by side in one process (``run.py --baseline DIR``)."""
    init = Path(root) / "autograd_nn" / "__init__.py"
    spec = importlib.util.spec_from_file_location(name, init, submodule_search_locations=[str(init.parent)])
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


# ----------------------------------------------------------------------- PyTorch
def torch_module() -> ModuleType | None:
    try:
        import torch
    except ImportError:
        return None
    return torch


def torch_mlp_step(
    spec: MLP, params: Params, x: np.ndarray, y: np.ndarray, api: str = "core", compiled: bool = False
) -> Callable[[], Any]:
    """The training step in PyTorch eager; ``compiled``: the whole step handed to
    ``torch.compile`` (as ``autograd_nn.compile`` gets it). Dynamo breaks the graph at
    ``loss.backward()``: the forward and loss become one compiled graph (AOTAutograd also
    compiles their backward), the update after it another. It compiles on the first call."""
    import torch

    if compiled:
        step = torch_mlp_step(spec, params, x, y, api)
        fast = torch.compile(step)

        def compiled_step() -> Any:
            return fast()

        compiled_step.parameters = step.parameters  # type: ignore[attr-defined]
        return compiled_step
    labels = torch.from_numpy(y.astype(np.int64)) if spec.loss == "cross_entropy" else torch.from_numpy(y)
    if api == "nn":
        return nn_mlp_step(
            spec,
            params,
            x,
            labels,
            torch.nn,
            torch.optim,
            torch.nn.functional,
            torch.from_numpy,
            getattr(torch, str(x.dtype)),
        )
    F = torch.nn.functional
    layers = [(torch.tensor(W, requires_grad=True), torch.tensor(b, requires_grad=True)) for W, b in params]
    flat = [p for layer in layers for p in layer]
    inputs = torch.from_numpy(x)
    activation = torch.sigmoid if spec.activation == "sigmoid" else torch.relu
    loss_fn = F.mse_loss if spec.loss == "mse" else F.cross_entropy
    last = len(layers) - 1
    lr = spec.lr

    def step() -> Any:
        h = inputs
        for layer, (W, b) in enumerate(layers):
            h = F.linear(h, W, b)
            if layer < last:
                h = activation(h)
        loss = loss_fn(h, labels)
        loss.backward()
        with torch.no_grad():
            for p in flat:
                p -= lr * p.grad
        # A loop of its own: under torch.compile (2.13), `p.grad = None` right after
        # `p -= ...` in one loop is lost (the grads then accumulate across steps).
        for p in flat:
            p.grad = None
        return loss

    step.parameters = lambda: [(W.detach().numpy(), b.detach().numpy()) for W, b in layers]  # type: ignore[attr-defined]
    return step


def torch_chain(
    x: np.ndarray, c: np.ndarray, d: np.ndarray, seed: np.ndarray, cycles: int = CHAIN_CYCLES
) -> Callable[[], Any]:
    import torch

    leaf = torch.tensor(x, requires_grad=True)
    c_t, d_t, seed_t = torch.from_numpy(c), torch.from_numpy(d), torch.from_numpy(seed)

    def step() -> Any:
        y = leaf
        for _ in range(cycles):
            y = torch.tanh(y * c_t + d_t)
        y.backward(seed_t)
        g = leaf.grad
        leaf.grad = None
        return g.numpy()

    return step


# ------------------------------------------------- PyTorch-style code, either library
def nn_mlp_step(
    spec: MLP,
    params: Params,
    x: np.ndarray,
    y: Any,
    nn: ModuleType,
    optim: ModuleType,
    F: ModuleType,
    as_tensor: Callable[[np.ndarray], Any],
    dtype: Any,
) -> Callable[[], Any]:
    """The step as a user writes it with nn.Sequential and optim.SGD (either library);
    ``dtype`` is the library's own name for the benchmark's dtype."""
    modules: list[Any] = []
    for layer, (W, _) in enumerate(params):
        modules.append(nn.Linear(W.shape[1], W.shape[0], dtype=dtype))
        if layer < len(params) - 1:
            modules.append(nn.Sigmoid() if spec.activation == "sigmoid" else nn.ReLU())
    model = nn.Sequential(*modules)
    linear_indices = [i for i, m in enumerate(modules) if isinstance(m, nn.Linear)]
    state = {}
    for index, (W, b) in zip(linear_indices, params):
        state[f"{index}.weight"] = as_tensor(W.copy())
        state[f"{index}.bias"] = as_tensor(b.copy())
    model.load_state_dict(state)
    optimizer = optim.SGD(model.parameters(), lr=spec.lr)
    inputs = as_tensor(x)
    targets = as_tensor(y) if isinstance(y, np.ndarray) and spec.loss == "mse" else y
    loss_fn = F.mse_loss if spec.loss == "mse" else F.cross_entropy

    def step() -> Any:
        optimizer.zero_grad()
        loss = loss_fn(model(inputs), targets)
        loss.backward()
        optimizer.step()
        return loss

    def parameters() -> Params:
        arrays = [p.detach().numpy() for p in model.parameters()]
        return list(zip(arrays[0::2], arrays[1::2]))

    step.parameters = parameters  # type: ignore[attr-defined]
    return step
