"""Recurrent layers with PyTorch's names, signatures and weight layout: ``RNN``, ``LSTM`` and
``GRU`` (``num_layers``, ``bias``, ``batch_first``, ``dropout``, ``bidirectional``, initial
states).

Parameters are ``weight_ih_l{k}``, ``weight_hh_l{k}``, ``bias_ih_l{k}``, ``bias_hh_l{k}``
per layer k (and ``*_reverse`` for the backward direction), registered in PyTorch's order
with its shapes and U(−1/√H, 1/√H) initialisation, so ``state_dict``s move between the two
libraries unchanged. Each layer and direction is one node (``F.lstm_layer``,
``F.gru_layer``, ``F.rnn_layer``): the time loop runs inside it, one GEMM per step.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from .. import functional as F
from .._default_dtype import resolve_float_dtype
from .._device import check_device
from ..creation import as_tensor, tensor
from ..tensor import Tensor
from . import init
from ._checks import check_input_dtype
from ._options import positive_int
from .module import Module
from .parameter import Parameter

_GATES = {"LSTM": 4, "GRU": 3, "RNN_TANH": 1, "RNN_RELU": 1}


class RNNBase(Module):
    """What RNN, LSTM and GRU share: the parameters, the input and state layouts, and the
    loop over layers and directions. ``mode`` is 'LSTM', 'GRU', 'RNN_TANH' or 'RNN_RELU'."""

    def __init__(
        self, mode: str, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
        batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False, proj_size: int = 0,
        device: Any = None, dtype: Any = None,
    ) -> None:  # fmt: skip
        super().__init__()
        owner = type(self).__name__
        check_device(device, owner)
        dtype = resolve_float_dtype(dtype, owner)
        if mode not in _GATES:
            raise ValueError(f"{owner}: unknown mode {mode!r}; expected one of {sorted(_GATES)}")
        if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not 0 <= dropout <= 1:
            raise ValueError(f"{owner}: dropout should be a number in range [0, 1] representing the probability of an element being zeroed, got {dropout!r}")  # fmt: skip
        if proj_size:
            raise NotImplementedError(f"{owner}: proj_size (LSTM projections) is not supported; use proj_size=0")
        if dropout > 0 and num_layers == 1:
            warnings.warn(
                f"{owner}: dropout applies between recurrent layers, so dropout={dropout} with num_layers=1 has no "
                "effect",
                stacklevel=2,
            )
        self.mode = mode
        self.input_size = positive_int(input_size, "input_size", owner)
        self.hidden_size = positive_int(hidden_size, "hidden_size", owner)
        self.num_layers = positive_int(num_layers, "num_layers", owner)
        self.bias, self.batch_first, self.bidirectional = bool(bias), bool(batch_first), bool(bidirectional)
        self.dropout, self.proj_size = float(dropout), 0
        gates = _GATES[mode] * self.hidden_size
        for layer in range(self.num_layers):
            inputs = self.input_size if layer == 0 else self.hidden_size * self.num_directions
            for suffix in self._suffixes(layer):
                self.register_parameter(f"weight_ih{suffix}", Parameter(np.empty((gates, inputs), dtype=dtype)))
                self.register_parameter(f"weight_hh{suffix}", Parameter(np.empty((gates, self.hidden_size), dtype=dtype)))
                if self.bias:
                    self.register_parameter(f"bias_ih{suffix}", Parameter(np.empty(gates, dtype=dtype)))
                    self.register_parameter(f"bias_hh{suffix}", Parameter(np.empty(gates, dtype=dtype)))
        self.reset_parameters()

    @property
    def num_directions(self) -> int:
        return 2 if self.bidirectional else 1

    def _suffixes(self, layer: int) -> list[str]:
        return [f"_l{layer}", f"_l{layer}_reverse"][: self.num_directions]

    def reset_parameters(self, generator: np.random.Generator | None = None) -> None:
        """Every weight and bias from U(−1/√H, 1/√H) (PyTorch's initialisation)."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for weight in self.parameters():
            init.uniform_(weight, -bound, bound, generator=generator)

    def _layer_parameters(self, suffix: str) -> tuple[Any, ...]:
        names = ("weight_ih", "weight_hh") + (("bias_ih", "bias_hh") if self.bias else ())
        found = tuple(getattr(self, name + suffix) for name in names)
        return found + (None,) * (4 - len(found))

    # --------------------------------------------------------------------- forward
    def _states(self, hx: Any, batch: int, batched: bool, dtype: np.dtype) -> Any:
        """The initial state as (L·D, B, H): zeros if None, else checked (and batched)."""
        shape = (self.num_layers * self.num_directions, batch, self.hidden_size)
        if hx is None:
            return tensor(np.zeros(shape, dtype=dtype))  # (made as a constant: a compiled step reads it as one)
        hx = as_tensor(hx)
        check_input_dtype(self, hx, dtype)
        expected = shape if batched else (shape[0], shape[2])
        if hx.shape != expected:
            raise ValueError(f"{type(self).__name__}: expected hidden size {expected}, got {hx.shape}")
        return hx if batched else hx.reshape(shape)

    def _initial(self, hx: Any, batch: int, batched: bool, dtype: np.dtype) -> tuple[Any, ...]:
        return (self._states(hx, batch, batched, dtype),)

    def _run(self, x: Tensor, initial: tuple[Any, ...], index: int, suffix: str, reverse: bool) -> tuple[Any, ...]:
        """One layer and direction: (output sequence (T, B, H), final state (B, H))."""
        w_ih, w_hh, b_ih, b_hh = self._layer_parameters(suffix)
        h0 = initial[0][index]
        if self.mode == "GRU":
            states = F.gru_layer(x, h0, w_ih, w_hh, b_ih, b_hh, reverse)
        else:
            nonlinearity = "relu" if self.mode == "RNN_RELU" else "tanh"
            states = F.rnn_layer(x, h0, w_ih, w_hh, b_ih, b_hh, reverse, nonlinearity)
        return states, (states[0 if reverse else -1],)

    def forward(self, input: Any, hx: Any = None) -> tuple[Tensor, Any]:
        x = as_tensor(input)
        check_input_dtype(self, x, self.weight_ih_l0.dtype)
        owner = type(self).__name__
        if x.ndim not in (2, 3):
            raise ValueError(f"{owner}: expected input to be 2D (unbatched) or 3D, got {x.ndim}D instead")
        batched = x.ndim == 3
        if not batched:
            x = x.reshape((x.shape[0], 1, x.shape[1]))
        elif self.batch_first:
            x = x.swapaxes(0, 1)
        if x.shape[-1] != self.input_size:
            raise ValueError(f"{owner}: input.size(-1) must be equal to input_size. Expected {self.input_size}, got {x.shape[-1]}")  # fmt: skip
        if x.shape[0] == 0:
            raise ValueError(f"{owner}: the input sequence is empty (shape {tuple(np.shape(input))})")
        initial = self._initial(hx, x.shape[1], batched, x.dtype)
        finals: list[tuple[Any, ...]] = []
        for layer in range(self.num_layers):
            outputs = []
            for direction, suffix in enumerate(self._suffixes(layer)):
                index = layer * self.num_directions + direction
                output, final = self._run(x, initial, index, suffix, reverse=direction == 1)
                outputs.append(output)
                finals.append(final)
            x = outputs[0] if len(outputs) == 1 else F.concatenate(outputs, axis=-1)
            if self.dropout and self.training and layer < self.num_layers - 1:
                x = F.dropout(x, self.dropout, rng=init.default_generator())
        if not batched:
            x = x.reshape((x.shape[0], x.shape[2]))
        elif self.batch_first:
            x = x.swapaxes(0, 1)
        last = [F.stack([final[i] for final in finals], axis=0) for i in range(len(finals[0]))]
        if not batched:
            last = [state.reshape((state.shape[0], state.shape[2])) for state in last]
        return x, (tuple(last) if len(last) > 1 else last[0])

    def extra_repr(self) -> str:
        text = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            text += f", num_layers={self.num_layers}"
        for name, default in (("bias", True), ("batch_first", False), ("dropout", 0.0), ("bidirectional", False)):
            if getattr(self, name) != default:
                text += f", {name}={getattr(self, name)}"
        return text


class RNN(RNNBase):
    """hₜ = tanh(xₜ W_ihᵀ + b_ih + hₜ₋₁ W_hhᵀ + b_hh) (``nonlinearity='relu'``: max(·, 0)).

    ``forward(input, hx=None)`` returns ``(output, h_n)``: output (T, B, D·H) ((B, T, D·H)
    if ``batch_first``; (T, D·H) for unbatched input (T, I)), h_n (num_layers·D, B, H).
    """

    def __init__(
        self, input_size: int, hidden_size: int, num_layers: int = 1, nonlinearity: str = "tanh", bias: bool = True,
        batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False, device: Any = None,
        dtype: Any = None,
    ) -> None:  # fmt: skip
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNN: unknown nonlinearity {nonlinearity!r}; expected 'tanh' or 'relu'")
        mode = "RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU"
        super().__init__(
            mode, input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional, 0, device, dtype
        )
        self.nonlinearity = nonlinearity


class LSTM(RNNBase):
    """cₜ = f·cₜ₋₁ + i·g, hₜ = o·tanh cₜ, with i, f, g, o = σ, σ, tanh, σ of the stacked
    xₜ W_ihᵀ + b_ih + hₜ₋₁ W_hhᵀ + b_hh (gates in PyTorch's order i, f, g, o).

    ``forward(input, hx=None)`` with ``hx = (h_0, c_0)`` returns ``(output, (h_n, c_n))``.

    >>> import numpy as np
    >>> from autograd_nn import nn
    >>> lstm = nn.LSTM(3, 5, num_layers=2, batch_first=True)
    >>> output, (h_n, c_n) = lstm(np.zeros((4, 7, 3)))  # batch 4, 7 steps
    >>> output.shape, h_n.shape, lstm.weight_ih_l1.shape
    ((4, 7, 5), (2, 4, 5), (20, 5))
    """

    def __init__(
        self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True, batch_first: bool = False,
        dropout: float = 0.0, bidirectional: bool = False, proj_size: int = 0, device: Any = None, dtype: Any = None,
    ) -> None:  # fmt: skip
        super().__init__(
            "LSTM", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional, proj_size,
            device, dtype,
        )  # fmt: skip

    def _initial(self, hx: Any, batch: int, batched: bool, dtype: np.dtype) -> tuple[Any, ...]:
        if hx is None:
            return (self._states(None, batch, batched, dtype),) * 2
        if not isinstance(hx, (tuple, list)) or len(hx) != 2:
            raise TypeError("LSTM: hx must be a tuple (h_0, c_0)")
        return self._states(hx[0], batch, batched, dtype), self._states(hx[1], batch, batched, dtype)

    def _run(self, x: Tensor, initial: tuple[Any, ...], index: int, suffix: str, reverse: bool) -> tuple[Any, ...]:
        w_ih, w_hh, b_ih, b_hh = self._layer_parameters(suffix)
        states = F.lstm_layer(x, initial[0][index], initial[1][index], w_ih, w_hh, b_ih, b_hh, reverse)
        last = 0 if reverse else -1
        return states[0], (states[0, last], states[1, last])


class GRU(RNNBase):
    """hₜ = (1 − z)·n + z·hₜ₋₁ with r, z = σ(…), n = tanh(xₜW_inᵀ + b_in + r·(hₜ₋₁W_hnᵀ + b_hn))
    (gates in PyTorch's order r, z, n). ``forward(input, hx=None)`` returns ``(output, h_n)``."""

    def __init__(
        self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True, batch_first: bool = False,
        dropout: float = 0.0, bidirectional: bool = False, device: Any = None, dtype: Any = None,
    ) -> None:  # fmt: skip
        super().__init__(
            "GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional, 0, device, dtype
        )
