"""``autograd-nn``: train the post's bike-sharing network, evaluate it, predict with it,
and draw its graphs.

    autograd-nn train [--data hour.csv] [--hidden 25] [--epochs 40] [--out runs/bike-sharing] [--force]
    autograd-nn evaluate runs/bike-sharing/model.safetensors
    autograd-nn predict runs/bike-sharing/model.safetensors      # writes runs/bike-sharing/predictions_test.csv
    autograd-nn graph runs/bike-sharing/model.safetensors        # writes runs/bike-sharing/graphs/
    autograd-nn graph --expand                                   # a fresh network, op graphs unfused
    autograd-nn export runs/bike-sharing/model.safetensors --onnx model.onnx --torch torch.safetensors

``train`` without ``--data`` uses the built-in SYNTHETIC data (seeded, nothing to
download); ``--data path/to/hour.csv`` uses the real UCI file (Fanaee-T & Gama 2013,
doi:10.1007/s13748-013-0040-3). ``evaluate``, ``predict`` and ``graph`` use the data the
checkpoint records unless ``--data`` or ``--data-seed`` says otherwise.

**Run folders.** ``train`` never writes into a folder that already holds something
unless ``--force`` is given: it writes to the first free numbered sibling instead
(``runs/bike-sharing-2``, ``-3``, ...) and says so. ``predict`` and ``graph`` write into
the checkpoint's folder unless ``--out`` says otherwise (``predict --out -`` prints).

**Exit status.** 0: done. 1: training diverged (a NaN or infinite loss); nothing was
written. 2: bad input (options, data, checkpoint), explained in one line. 130:
interrupted by Ctrl-C; ``train`` first saves the model of the last completed epoch.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ..checkpoint import CheckpointError
from ..data import DataFormatError
from ..training import OPTIMIZERS, TrainConfig
from ._common import (
    DEFAULT_OUT,
    MAX_BATCH,
    MAX_EPOCHS,
    MAX_HIDDEN,
    MAX_SEED,
    CLIError,
    bounded_int,
    positive_float,
    unit_fraction,
)
from ._export import cmd_export
from ._inspect import UNTRAINED_GRAPHS, cmd_evaluate, cmd_graph, cmd_predict
from ._train import cmd_train

__all__ = ["CLIError", "cmd_evaluate", "cmd_export", "cmd_graph", "cmd_predict", "cmd_train", "main"]

def _version() -> str:
    from .. import __version__

    return __version__


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="autograd-nn",
        description="Train and inspect the bike-sharing network of the backprop post.",
        epilog="Exit status: 0 done, 1 training diverged, 2 bad input, 130 interrupted (Ctrl-C).",
    )
    parser.add_argument("--version", action="version", version=f"autograd-nn {_version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    defaults = TrainConfig()
    seed = bounded_int(0, MAX_SEED)

    def option(p: Any, name: str, help: str, **kwargs: Any) -> None:
        p.add_argument(name, help=help, **kwargs)

    def data_options(p: argparse.ArgumentParser, default: str) -> None:
        source = p.add_mutually_exclusive_group()
        option(source, "--data", f"use this UCI hour.csv (default: {default})", type=Path, metavar="PATH")
        option(source, "--data-seed", "use the synthetic data with this seed instead", type=seed, metavar="N")

    t = commands.add_parser("train", help="train the 56 → hidden (sigmoid) → 1 network and write a run folder")
    data_options(t, "the built-in synthetic data, seed 0")
    option(t, "--hidden", f"hidden units, 1 to {MAX_HIDDEN} (default: {defaults.hidden})",
           type=bounded_int(1, MAX_HIDDEN), default=defaults.hidden, metavar="N")  # fmt: skip
    option(t, "--epochs", f"passes over the training set (default: {defaults.epochs})",
           type=bounded_int(1, MAX_EPOCHS), default=defaults.epochs, metavar="N")  # fmt: skip
    option(t, "--batch-size", f"rows per minibatch (default: {defaults.batch_size}; more than the training rows "
           "means one batch)", type=bounded_int(1, MAX_BATCH), default=defaults.batch_size, metavar="N")  # fmt: skip
    option(t, "--lr", f"learning rate, a finite number > 0 (default: {defaults.lr})",
           type=positive_float, default=defaults.lr)  # fmt: skip
    option(t, "--optimizer", f"the update rule, as in torch.optim (default: {defaults.optimizer})",
           choices=OPTIMIZERS, default=defaults.optimizer)  # fmt: skip
    option(t, "--momentum", "momentum in [0, 1), for --optimizer sgd only (default: 0)",
           type=unit_fraction, default=defaults.momentum, metavar="M")  # fmt: skip
    option(t, "--seed", "seed of the initial weights and of the shuffling (default: 0)",
           type=seed, default=defaults.seed, metavar="N")  # fmt: skip
    option(t, "--dtype", "floating type of the weights and the data (default: float32)",
           choices=("float32", "float64"), default=defaults.dtype)  # fmt: skip
    option(t, "--out", f"run folder (default: {DEFAULT_OUT}); if it holds anything, the run goes to FOLDER-2, "
           "-3, ... instead", type=Path, default=DEFAULT_OUT, metavar="FOLDER")  # fmt: skip
    option(t, "--force", "write into --out even if it holds a run, replacing the files this run writes",
           action="store_true")  # fmt: skip
    option(t, "--format", "checkpoint format: model.safetensors (default) or model.npz",
           choices=("safetensors", "npz"), default="safetensors")  # fmt: skip
    option(t, "--no-graphs", "do not render the computation graphs", action="store_true")
    option(t, "--expand", "draw the op graphs unfused: Linear and MseLoss as the primitives they declare "
           "(Wᵀ, matmul, add; subtract, square, mean)", action="store_true")  # fmt: skip
    option(t, "--no-progress", "one plain line per epoch even on a terminal (where the default is a tqdm bar, "
           "if tqdm is installed)", action="store_true")  # fmt: skip

    checkpoint_help = "a model.safetensors or model.npz written by train"
    e = commands.add_parser("evaluate", help="print a checkpoint's losses on the train, validation and test splits")
    option(e, "checkpoint", checkpoint_help, type=Path)
    data_options(e, "the data the checkpoint was trained on")

    p = commands.add_parser("predict", help="write a checkpoint's predictions (riders per hour) as CSV")
    option(p, "checkpoint", checkpoint_help, type=Path)
    data_options(p, "the data the checkpoint was trained on")
    option(p, "--split", "the rows to predict: the training, validation (60 days) or test (last 21 days) period "
           "(default: test)", choices=("train", "val", "test"), default="test")  # fmt: skip
    option(p, "--out", "CSV file to write, or - for standard output (default: predictions_SPLIT.csv next to "
           "the checkpoint)", type=Path, metavar="FILE")  # fmt: skip

    g = commands.add_parser("graph", help="render the forward and backward graphs for one minibatch")
    option(g, "checkpoint", "a trained model (default: a fresh, untrained network)", type=Path, nargs="?")
    data_options(g, "the checkpoint's data; the synthetic data for a fresh network")
    option(g, "--batch-size", "the first N training rows form the minibatch (default: 128)",
           type=bounded_int(1, MAX_BATCH), default=128, metavar="N")  # fmt: skip
    option(g, "--hidden", f"hidden units of the fresh network, without a checkpoint (default: {defaults.hidden})",
           type=bounded_int(1, MAX_HIDDEN), metavar="N")  # fmt: skip
    option(g, "--out", f"output folder (default: graphs/ next to the checkpoint, or {UNTRAINED_GRAPHS} for a "
           "fresh network)", type=Path, metavar="FOLDER")  # fmt: skip
    option(g, "--expand", "draw the op graphs unfused: Linear and MseLoss as the primitives they declare "
           "(Wᵀ, matmul, add; subtract, square, mean), so the path that carries δ back is on the picture",
           action="store_true")  # fmt: skip

    x = commands.add_parser("export", help="write a checkpoint's network as ONNX and/or a plain PyTorch state_dict")
    option(x, "checkpoint", checkpoint_help, type=Path)
    option(x, "--onnx", "write an ONNX model here (input 'input' of shape (batch, 56), output 'output'), for "
           "ONNX Runtime; needs the onnx extra: pip install 'autograd-nn[onnx]'", type=Path, metavar="FILE")  # fmt: skip
    option(x, "--torch", "write the weights here as a plain state_dict with PyTorch's key names (0.weight, ...), "
           "which torch.nn.Sequential loads with safetensors.torch.load_file", type=Path, metavar="FILE")  # fmt: skip
    option(x, "--force", "replace files that exist", action="store_true")
    return parser


COMMANDS = {"train": cmd_train, "evaluate": cmd_evaluate, "predict": cmd_predict, "graph": cmd_graph, "export": cmd_export}


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``autograd-nn`` console script; returns the exit status."""
    try:
        args = _parser().parse_args(argv)
    except SystemExit as done:  # --help, --version, or a usage error argparse has printed
        return done.code if isinstance(done.code, int) else 2
    try:
        status = COMMANDS[args.command](args)
    except KeyboardInterrupt:
        print(f"autograd-nn {args.command}: interrupted", file=sys.stderr)
        return 130
    except (CLIError, DataFormatError, CheckpointError, OSError, ValueError, RuntimeError) as err:
        # RuntimeError: e.g. load_state_dict naming the keys of another architecture
        print(f"autograd-nn {args.command}: error: {err}", file=sys.stderr)
        return 2
    return status or 0


if __name__ == "__main__":
    sys.exit(main())
