"""``autograd-nn``: train the post's bike-sharing network, evaluate it, predict with it,
and draw its graphs.

    autograd-nn train [--data hour.csv] [--hidden 25] [--epochs 40] [--out runs/bike-sharing] [--force]
    autograd-nn evaluate runs/bike-sharing/model.safetensors
    autograd-nn predict runs/bike-sharing/model.safetensors      # writes runs/bike-sharing/predictions_test.csv
    autograd-nn graph runs/bike-sharing/model.safetensors        # writes runs/bike-sharing/graphs/

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
from ._inspect import UNTRAINED_GRAPHS, cmd_evaluate, cmd_graph, cmd_predict
from ._train import cmd_train

__all__ = ["CLIError", "cmd_evaluate", "cmd_graph", "cmd_predict", "cmd_train", "main"]

CHECKPOINT_NAME = "model.safetensors"


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

    t = commands.add_parser("train", help="train the 56 → hidden (sigmoid) → 1 network and write a run folder")
    t.add_argument("--data", type=Path, help="the UCI hour.csv to train on (default: the built-in synthetic data)")
    t.add_argument("--data-seed", type=seed, help="seed of the synthetic data (default: 0)")
    t.add_argument(
        "--hidden", type=bounded_int(1, MAX_HIDDEN), default=defaults.hidden,
        help=f"hidden units, 1 to {MAX_HIDDEN} (default: {defaults.hidden})",
    )  # fmt: skip
    t.add_argument(
        "--epochs", type=bounded_int(1, MAX_EPOCHS), default=defaults.epochs,
        help=f"passes over the training set (default: {defaults.epochs})",
    )  # fmt: skip
    t.add_argument(
        "--batch-size", type=bounded_int(1, MAX_BATCH), default=defaults.batch_size,
        help=f"rows per minibatch (default: {defaults.batch_size}; more than the training rows means one batch)",
    )  # fmt: skip
    t.add_argument(
        "--lr", type=positive_float, default=defaults.lr, help=f"learning rate, > 0 (default: {defaults.lr})"
    )
    t.add_argument("--optimizer", choices=OPTIMIZERS, default=defaults.optimizer, help=f"default: {defaults.optimizer}")
    t.add_argument(
        "--momentum", type=unit_fraction, default=defaults.momentum, help="SGD momentum in [0, 1) (default: 0)"
    )
    t.add_argument("--seed", type=seed, default=defaults.seed, help="seed of initialisation and shuffling (default: 0)")
    t.add_argument("--dtype", choices=("float32", "float64"), default=defaults.dtype, help="default: float32")
    t.add_argument(
        "--out", type=Path, default=DEFAULT_OUT,
        help=f"run folder (default: {DEFAULT_OUT}); if it holds anything, the run goes to FOLDER-2, -3, ... instead",
    )  # fmt: skip
    t.add_argument(
        "--force", action="store_true", help="write into --out even if it holds a run (its files are replaced)"
    )
    t.add_argument(
        "--format", choices=("safetensors", "npz"), default="safetensors",
        help="checkpoint format: model.safetensors (default) or model.npz",
    )  # fmt: skip
    t.add_argument("--no-graphs", action="store_true", help="do not render the computation graphs")
    t.add_argument("--no-progress", action="store_true", help="a plain line per epoch instead of a progress bar")

    def data_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--data", type=Path, help="use this hour.csv (default: the data the checkpoint was trained on)")
        p.add_argument("--data-seed", type=seed, help="use the synthetic data with this seed instead")

    e = commands.add_parser("evaluate", help="print a checkpoint's losses on the train, validation and test splits")
    e.add_argument("checkpoint", type=Path, help="a model.safetensors or model.npz written by train")
    data_options(e)

    p = commands.add_parser("predict", help="write a checkpoint's predictions (riders per hour) as CSV")
    p.add_argument("checkpoint", type=Path, help="a model.safetensors or model.npz written by train")
    data_options(p)
    p.add_argument("--split", choices=("train", "val", "test"), default="test", help="default: test")
    p.add_argument(
        "--out", type=Path,
        help="CSV file to write, or - for standard output (default: predictions_SPLIT.csv next to the checkpoint)",
    )  # fmt: skip

    g = commands.add_parser("graph", help="render the forward and backward graphs for one minibatch")
    g.add_argument("checkpoint", type=Path, nargs="?", help="a trained model (default: a fresh, untrained network)")
    g.add_argument(
        "--data", type=Path,
        help="use this hour.csv (default: the checkpoint's data; the synthetic data for a fresh network)",
    )  # fmt: skip
    g.add_argument("--data-seed", type=seed, help="use the synthetic data with this seed instead")
    g.add_argument(
        "--batch-size", type=bounded_int(1, MAX_BATCH), default=128,
        help="the first N training rows form the minibatch (default: 128)",
    )  # fmt: skip
    g.add_argument(
        "--hidden", type=bounded_int(1, MAX_HIDDEN),
        help=f"hidden units of the fresh network, without a checkpoint (default: {defaults.hidden})",
    )  # fmt: skip
    g.add_argument(
        "--out", type=Path,
        help=f"output folder (default: graphs/ next to the checkpoint, or {UNTRAINED_GRAPHS} for a fresh network)",
    )  # fmt: skip
    return parser


COMMANDS = {"train": cmd_train, "evaluate": cmd_evaluate, "predict": cmd_predict, "graph": cmd_graph}


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
