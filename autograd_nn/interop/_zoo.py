"""The layer table, continued: convolution, pooling, resampling, normalisation, embedding,
recurrent and attention layers, one ``register_layer`` line each (see ``_layers``).

Every constructor argument is read from the module's attributes, which have PyTorch's names
in both libraries; the weights, running statistics and ``num_batches_tracked`` then move by
their ``state_dict`` names. A setting one side lacks is refused with its name.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .. import nn
from ._layers import LayerBridge, register_layer

#: the bridges registered here, in order
ZOO: list[LayerBridge] = []


def _read(*names: str) -> Callable[[Any], dict[str, Any]]:
    """The constructor's keyword arguments: these attributes of the module, by name."""

    def arguments(module: Any) -> dict[str, Any]:
        return {name: getattr(module, name) for name in names}

    return arguments


def _layer(ours: type, arguments: Callable[[Any], dict[str, Any]], **options: Any) -> None:
    ZOO.append(register_layer(ours, ours.__name__, arguments, **options))


def _other(module: Any) -> Any:
    """``module`` converted to the other library (for arguments that are modules themselves)."""
    from ._convert import from_torch, to_torch

    return to_torch(module) if isinstance(module, nn.Module) else from_torch(module)


def _zeros_padding(module: Any) -> str | None:
    mode = module.padding_mode
    return None if mode == "zeros" else f"padding_mode={mode!r} (autograd_nn pads with zeros only)"


def _conv(module: Any) -> dict[str, Any]:
    return {
        "in_channels": module.in_channels, "out_channels": module.out_channels, "kernel_size": module.kernel_size,
        "stride": module.stride, "padding": module.padding, "dilation": module.dilation, "groups": module.groups,
        "bias": module.bias is not None, "padding_mode": module.padding_mode,
    }  # fmt: skip


def _conv_transpose(module: Any) -> dict[str, Any]:
    return {**_conv(module), "output_padding": module.output_padding}


for _cls in (nn.Conv1d, nn.Conv2d):
    _layer(_cls, _conv, refuse=_zeros_padding)
for _cls in (nn.ConvTranspose1d, nn.ConvTranspose2d):
    _layer(_cls, _conv_transpose, refuse=_zeros_padding)

_max_pool = _read("kernel_size", "stride", "padding", "dilation", "return_indices", "ceil_mode")
_layer(nn.MaxPool1d, _max_pool)
_layer(nn.MaxPool2d, _max_pool)
_layer(nn.AvgPool1d, _read("kernel_size", "stride", "padding", "ceil_mode", "count_include_pad"))
_layer(nn.AvgPool2d, _read("kernel_size", "stride", "padding", "ceil_mode", "count_include_pad", "divisor_override"))
_layer(nn.AdaptiveAvgPool1d, _read("output_size"))
_layer(nn.AdaptiveAvgPool2d, _read("output_size"))
_layer(nn.AdaptiveMaxPool2d, _read("output_size", "return_indices"))

_layer(nn.Dropout2d, _read("p", "inplace"))
_layer(nn.Upsample, _read("size", "scale_factor", "mode", "align_corners", "recompute_scale_factor"))
_layer(nn.UpsamplingNearest2d, _read("size", "scale_factor"))
_layer(nn.UpsamplingBilinear2d, _read("size", "scale_factor"))
_layer(nn.PixelShuffle, _read("upscale_factor"))
_layer(nn.PixelUnshuffle, _read("downscale_factor"))


def _with_bias(read: Callable[[Any], dict[str, Any]], affine: str) -> Callable[[Any], dict[str, Any]]:
    """``read`` plus ``bias``: whether an affine layer has its β (both libraries take ``bias=``)."""

    def arguments(module: Any) -> dict[str, Any]:
        return {**read(module), "bias": not getattr(module, affine) or module.bias is not None}

    return arguments


_batch_norm = _with_bias(_read("num_features", "eps", "momentum", "affine", "track_running_stats"), "affine")
_layer(nn.BatchNorm1d, _batch_norm)
_layer(nn.BatchNorm2d, _batch_norm)
_layer(nn.LayerNorm, _with_bias(_read("normalized_shape", "eps", "elementwise_affine"), "elementwise_affine"))
_layer(nn.GroupNorm, _with_bias(_read("num_groups", "num_channels", "eps", "affine"), "affine"))
_layer(nn.RMSNorm, _read("normalized_shape", "eps", "elementwise_affine"))


def _dense(module: Any) -> str | None:
    return "sparse=True (autograd_nn's gradients are dense)" if module.sparse else None


_layer(nn.Embedding, _read("num_embeddings", "embedding_dim", "padding_idx", "max_norm", "norm_type",
                           "scale_grad_by_freq"), refuse=_dense)  # fmt: skip

_recurrent = _read("input_size", "hidden_size", "num_layers", "bias", "batch_first", "dropout", "bidirectional")


def _rnn(module: Any) -> dict[str, Any]:
    return {**_recurrent(module), "nonlinearity": module.nonlinearity}


def _no_projection(module: Any) -> str | None:
    return f"proj_size={module.proj_size} (autograd_nn's LSTM has no projection)" if module.proj_size else None


_layer(nn.RNN, _rnn)
_layer(nn.LSTM, _recurrent, refuse=_no_projection)
_layer(nn.GRU, _recurrent)


def _attention(module: Any) -> dict[str, Any]:
    return {
        "embed_dim": module.embed_dim, "num_heads": module.num_heads, "dropout": module.dropout,
        "bias": module.in_proj_bias is not None, "add_bias_kv": module.bias_k is not None,
        "add_zero_attn": module.add_zero_attn, "kdim": module.kdim, "vdim": module.vdim,
        "batch_first": module.batch_first,
    }  # fmt: skip


_layer(nn.MultiheadAttention, _attention, whole=True)


def _activation_name(activation: Any) -> str | None:
    """'relu' or 'gelu' for either library's function of that name, else None."""
    name = getattr(activation, "__name__", None)
    module = getattr(activation, "__module__", "") or ""
    if name in ("relu", "gelu") and (module.startswith("torch") or module.startswith("autograd_nn")):
        return name
    return None


def _encoder_layer(module: Any) -> dict[str, Any]:
    activation = module.activation
    name = _activation_name(activation)
    return {
        "d_model": module.linear1.in_features, "nhead": module.self_attn.num_heads,
        "dim_feedforward": module.linear1.out_features, "dropout": module.dropout.p,
        "activation": name if name is not None else _other(activation), "layer_norm_eps": module.norm1.eps,
        "batch_first": module.self_attn.batch_first, "norm_first": module.norm_first,
        "bias": module.linear1.bias is not None,
    }  # fmt: skip


def _named_activation(module: Any) -> str | None:
    activation = module.activation
    if _activation_name(activation) is not None or isinstance(activation, (nn.Module, _torch_module())):
        return None
    return f"activation={activation!r} (only 'relu', 'gelu' or a layer both libraries have)"


def _torch_module() -> type:
    import torch

    return torch.nn.Module


_layer(nn.TransformerEncoderLayer, _encoder_layer, refuse=_named_activation, whole=True)


def _encoder(module: Any) -> dict[str, Any]:
    return {
        "encoder_layer": _other(module.layers[0]), "num_layers": module.num_layers,
        "norm": None if module.norm is None else _other(module.norm),
        "enable_nested_tensor": module.enable_nested_tensor, "mask_check": module.mask_check,
    }  # fmt: skip


_layer(nn.TransformerEncoder, _encoder, whole=True)
