"""`autograd-nn export`: a trained checkpoint as an ONNX model (for ONNX Runtime) and/or as
a plain PyTorch ``state_dict`` (for ``torch.nn.Sequential``)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np

from .. import checkpoint
from ._common import CLIError, say, shown
from ._records import load_trained

ONNX_INPUT, ONNX_OUTPUT = "input", "output"


def torch_code(model: Any) -> str:
    """The PyTorch expression that builds the network ``model`` is (Linear, Sigmoid, Linear)."""
    hidden = model[0].out_features
    return (
        f"torch.nn.Sequential(torch.nn.Linear({model[0].in_features}, {hidden}), torch.nn.Sigmoid(), "
        f"torch.nn.Linear({hidden}, {model[2].out_features}))"
    )


def _target(path: Path, checkpoint_path: Path, force: bool) -> Path:
    if path.resolve() == checkpoint_path.resolve():
        raise CLIError(f"{shown(path)} is the checkpoint itself; write the export to another file")
    if path.exists() and not force:
        raise CLIError(f"{shown(path)} exists; pass --force to replace it")
    if path.is_dir():
        raise CLIError(f"{shown(path)} is a folder; give a file name")
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def cmd_export(args: argparse.Namespace) -> None:
    """`autograd-nn export`: write the checkpoint's network as ONNX and/or a torch state_dict."""
    if args.onnx is None and args.torch is None:
        raise CLIError("say what to write: --onnx FILE (an ONNX model) and/or --torch FILE (a PyTorch state_dict)")
    if args.onnx is not None and args.torch is not None and args.onnx.resolve() == args.torch.resolve():
        raise CLIError("--onnx and --torch name the same file")
    model, _ = load_trained(args.checkpoint)
    if args.onnx is not None:
        from ..onnx import export  # (importing the exporter needs nothing optional; exporting needs onnx)

        path = _target(args.onnx, args.checkpoint, args.force)
        sample = np.zeros((2, model[0].in_features), dtype=model[0].weight.dtype)
        try:
            export(
                model, (sample,), path, input_names=[ONNX_INPUT], output_names=[ONNX_OUTPUT],
                dynamic_axes={ONNX_INPUT: {0: "batch"}, ONNX_OUTPUT: {0: "batch"}},
            )  # fmt: skip
        except ModuleNotFoundError as err:
            raise CLIError(f"--onnx needs the onnx package ({err}): pip install 'autograd-nn[onnx]'") from None
        say(f"wrote {path}: ONNX, input {ONNX_INPUT!r} (batch, {model[0].in_features}) → output {ONNX_OUTPUT!r} "
            "(batch, 1), standardised like the training targets")  # fmt: skip
    if args.torch is not None:
        path = _target(args.torch, args.checkpoint, args.force)
        checkpoint.save(model.state_dict(), path)  # PyTorch's key names: 0.weight, 0.bias, 2.weight, 2.bias
        say(f"wrote {path}: load it with  model = {torch_code(model)}; "
            f"model.load_state_dict(safetensors.torch.load_file({str(path)!r}))")  # fmt: skip
