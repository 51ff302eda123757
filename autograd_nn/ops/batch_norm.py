"""``batch_norm`` and ``instance_norm``: normalisation with running statistics, PyTorch's
functional forms and semantics.

In training (``training=True``, ``use_input_stats=True``) the input is standardised with
its own statistics (one ``Standardize`` node) and the running averages are updated in
place from the same statistics: running ← (1 − momentum)·running + momentum·batch, the
variance taken unbiased (n/(n − 1)), as PyTorch does. Otherwise the running statistics
are used: y = (x − running_mean)/√(running_var + ε) · w + b, an affine map of x.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .. import _tracing
from .._record import array_of, is_tensor
from ..registry import register_composite
from .normalization import Standardize, affine, channel_view, drawn_eps, how_many


def _running_array(running: Any) -> np.ndarray:
    """The memory of a running statistic (a buffer made before the call), watched by a
    compiled step that is recording, so that its replays read and update it too."""
    if _tracing.recording() is None:
        return np.asanyarray(array_of(running))
    if is_tensor(running):
        _tracing.adopt((running,))
        return running.data
    return _tracing.state_array(running, f"a running statistic of shape {np.shape(running)}")


def _write_running(running: Any, batch: np.ndarray, momentum: Any) -> None:
    """running ← (1 − m)·running + m·batch in place, and its version bumped (a write);
    ``momentum`` is a number or a 0-d array (1/n for a cumulative average)."""
    if running is None:
        return
    array = _running_array(running)
    array *= 1 - momentum
    array += (momentum * batch).astype(array.dtype, copy=False)
    if is_tensor(running):
        running._increment_version()


def _running_update(running_mean: Any, running_var: Any, momentum: float) -> Callable[..., None] | None:
    """The ``update`` Standardize calls with the batch's statistics (kept axes): per
    channel, averaged over the leading axis when that was not reduced (instance norm)."""
    if running_mean is None and running_var is None:
        return None

    def update(mean: np.ndarray, var: np.ndarray, count: int) -> None:
        channels = mean.shape[1]
        mean = mean.reshape(-1, channels).mean(axis=0)
        var = var.reshape(-1, channels).mean(axis=0) * (count / max(count - 1, 1))
        _write_running(running_mean, mean, momentum)
        _write_running(running_var, var, momentum)

    return update


def _check_running(name: str, running: Any, channels: int, op_name: str) -> None:
    if running is not None and np.shape(array_of(running)) != (channels,):
        raise ValueError(f"{op_name}: {name} must have shape ({channels},), got {np.shape(array_of(running))}")


def _with_running_statistics(input: Any, weight: Any, bias: Any, mean: Any, var: Any, eps: float, op_name: str) -> Any:
    """y = (x − μ)/√(σ² + ε) · w + b with the given (running) statistics: an affine map of x."""
    if mean is None or var is None:
        raise ValueError(f"{op_name}: running_mean and running_var are needed to normalise with running statistics")
    dtype = input.dtype
    mean = _running_array(mean).astype(dtype, copy=False)
    inverse = (_running_array(var).astype(dtype, copy=False) + dtype.type(eps)) ** -0.5
    scale = inverse if weight is None else weight * inverse
    centred = input - channel_view(mean, input.ndim)
    return affine(centred * channel_view(scale, input.ndim), None, channel_view(bias, input.ndim))


def _checked(input: Any, weight: Any, bias: Any, running: tuple[Any, Any], op_name: str) -> int:
    if input.ndim < 2:
        raise ValueError(f"{op_name}: expected input of shape (N, C, *), got shape {input.shape}")
    channels = input.shape[1]
    for name, value in (("weight", weight), ("bias", bias), ("running_mean", running[0]), ("running_var", running[1])):
        _check_running(name, value, channels, op_name)
    return channels


def _norm_shapes(draw: Any, min_spatial: int) -> tuple[list[tuple[int, ...]], dict[str, Any]]:
    """(N, C, *spatial) and (C,)-shaped weight, bias and running statistics."""
    from hypothesis import strategies as st

    channels = draw(st.integers(1, 3))
    spatial = tuple(draw(st.lists(st.integers(1, 3), min_size=min_spatial, max_size=2)))
    if min_spatial:
        spatial = spatial[:-1] + (max(spatial[-1], 2),)  # instance statistics need 2 values or more
    shape = (draw(st.integers(2, 3)), channels) + spatial
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    running = {"running_mean": rng.standard_normal(channels), "running_var": rng.uniform(0.5, 2.0, channels)}
    if draw(st.booleans()):
        running = {"running_mean": None, "running_var": None}
    return [shape, (channels,), (channels,)][: how_many(draw)], {**running, "eps": drawn_eps(draw)}


def _reference(
    x: np.ndarray, w: Any, b: Any, axes: tuple[int, ...], mean: Any, var: Any, use_batch: bool, eps: float
) -> np.ndarray:
    view = (-1,) + (1,) * (x.ndim - 2)
    if use_batch:
        y = (x - x.mean(axis=axes, keepdims=True)) / np.sqrt(x.var(axis=axes, keepdims=True) + eps)
    else:
        y = (x - mean.reshape(view)) / np.sqrt(var.reshape(view) + eps)
    return y * (1 if w is None else w.reshape(view)) + (0 if b is None else b.reshape(view))


# -------------------------------------------------------------------------- batch_norm
def _batch_norm_shapes(draw: Any) -> tuple[list[tuple[int, ...]], dict[str, Any]]:
    from hypothesis import strategies as st

    shapes, params = _norm_shapes(draw, 0)
    training = params["running_mean"] is None or draw(st.booleans())
    return shapes, {**params, "training": training, "momentum": 0.1}


def _batch_norm_reference(x: np.ndarray, w: Any = None, b: Any = None, **p: Any) -> np.ndarray:
    axes = (0,) + tuple(range(2, x.ndim))
    return _reference(x, w, b, axes, p["running_mean"], p["running_var"], p["training"], p["eps"])


def _batch_norm_args(
    input: Any, running_mean: Any, running_var: Any, weight: Any = None, bias: Any = None, training: bool = False,
    momentum: float = 0.1, eps: float = 1e-5,
) -> tuple[tuple[Any, ...], dict[str, Any]]:  # fmt: skip
    params = {"running_mean": running_mean, "running_var": running_var, "training": training, "momentum": momentum}
    return (input, weight, bias), {**params, "eps": eps}


def _batch_norm_call(inputs: Any, p: dict[str, Any]) -> tuple[tuple[Any, ...], dict[str, Any]]:
    x, w, b = (list(inputs) + [None, None])[:3]
    return (x, p["running_mean"], p["running_var"], w, b, p["training"], p["momentum"], p["eps"]), {}


@register_composite(
    arity=1, shapes=_batch_norm_shapes, reference=_batch_norm_reference, functional="batch_norm",
    parse=_batch_norm_args, arguments=_batch_norm_call,
)  # fmt: skip
def batch_norm(
    input: Any, weight: Any = None, bias: Any = None, *, running_mean: Any, running_var: Any, training: bool = False,
    momentum: float = 0.1, eps: float = 1e-5,
) -> Any:  # fmt: skip
    """y = (x − μ)/√(σ² + ε) · w_c + b_c per channel of (N, C, …), μ and σ² over N and the
    positions (PyTorch's ``F.batch_norm``).

    ``training=True``: the batch's statistics, and ``running_mean``/``running_var`` (if
    given) updated in place with ``momentum``. ``training=False``: the running statistics.
    """
    channels = _checked(input, weight, bias, (running_mean, running_var), "batch_norm")
    if not training:
        return _with_running_statistics(input, weight, bias, running_mean, running_var, eps, "batch_norm")
    if input.size // channels <= 1:
        raise ValueError(f"batch_norm: expected more than 1 value per channel when training, got input of shape {input.shape}")
    axes = (0,) + tuple(range(2, input.ndim))
    y = Standardize.apply(input, axes=axes, eps=eps, update=_running_update(running_mean, running_var, momentum))
    return affine(y, channel_view(weight, input.ndim), channel_view(bias, input.ndim))


# ----------------------------------------------------------------------- instance_norm
def _instance_norm_shapes(draw: Any) -> tuple[list[tuple[int, ...]], dict[str, Any]]:
    from hypothesis import strategies as st

    shapes, params = _norm_shapes(draw, 1)
    use_input_stats = params["running_mean"] is None or draw(st.booleans())
    return shapes, {**params, "use_input_stats": use_input_stats, "momentum": 0.1}


def _instance_norm_reference(x: np.ndarray, w: Any = None, b: Any = None, **p: Any) -> np.ndarray:
    axes = tuple(range(2, x.ndim))
    return _reference(x, w, b, axes, p["running_mean"], p["running_var"], p["use_input_stats"], p["eps"])


def _instance_norm_args(
    input: Any, running_mean: Any = None, running_var: Any = None, weight: Any = None, bias: Any = None,
    use_input_stats: bool = True, momentum: float = 0.1, eps: float = 1e-5,
) -> tuple[tuple[Any, ...], dict[str, Any]]:  # fmt: skip
    params = {"running_mean": running_mean, "running_var": running_var, "use_input_stats": use_input_stats}
    return (input, weight, bias), {**params, "momentum": momentum, "eps": eps}


def _instance_norm_call(inputs: Any, p: dict[str, Any]) -> tuple[tuple[Any, ...], dict[str, Any]]:
    x, w, b = (list(inputs) + [None, None])[:3]
    return (x, p["running_mean"], p["running_var"], w, b, p["use_input_stats"], p["momentum"], p["eps"]), {}


@register_composite(
    arity=1, shapes=_instance_norm_shapes, reference=_instance_norm_reference, functional="instance_norm",
    parse=_instance_norm_args, arguments=_instance_norm_call,
)  # fmt: skip
def instance_norm(
    input: Any, weight: Any = None, bias: Any = None, *, running_mean: Any = None, running_var: Any = None,
    use_input_stats: bool = True, momentum: float = 0.1, eps: float = 1e-5,
) -> Any:  # fmt: skip
    """y = (x − μ)/√(σ² + ε) · w_c + b_c, μ and σ² of each sample's channel over its
    positions (PyTorch's ``F.instance_norm``); running statistics, if given, are updated
    with the instances' statistics averaged over the batch."""
    _checked(input, weight, bias, (running_mean, running_var), "instance_norm")
    if not use_input_stats:
        return _with_running_statistics(input, weight, bias, running_mean, running_var, eps, "instance_norm")
    positions = input.size // max(input.shape[0] * input.shape[1], 1)
    if input.ndim < 3 or positions <= 1:
        raise ValueError(
            f"instance_norm: expected more than 1 spatial element per channel when using input statistics, got "
            f"input of shape {input.shape}"
        )
    update = _running_update(running_mean, running_var, momentum)
    y = Standardize.apply(input, axes=tuple(range(2, input.ndim)), eps=eps, update=update)
    return affine(y, channel_view(weight, input.ndim), channel_view(bias, input.ndim))
