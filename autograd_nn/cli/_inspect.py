"""`autograd-nn evaluate / predict / graph`: use a trained checkpoint (or, for graph, a
fresh network). Outputs default into the checkpoint's own run folder."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from ..training import TrainConfig, build_network, mse
from ._common import DEFAULT_OUT, CLIError, say, shown, write_text
from ._outputs import predictions, predictions_csv, render_graphs
from ._records import dataset, load_trained

UNTRAINED_GRAPHS = DEFAULT_OUT.parent / "untrained" / "graphs"


def cmd_evaluate(args: argparse.Namespace) -> None:
    """`autograd-nn evaluate`: print a checkpoint's loss on each split."""
    model, record = load_trained(args.checkpoint)
    data = dataset(args.data, args.data_seed, record)
    dtype = model[0].weight.dtype
    say(f"data: {shown(data.source)}{' (SYNTHETIC)' if data.synthetic else ''}")
    for split in ("train", "val", "test"):
        part = getattr(data, split)
        loss = mse(model, part.X.astype(dtype), part.y.astype(dtype))
        actual, predicted = predictions(model, data, split)
        rmse = float(np.sqrt(np.mean((actual - predicted) ** 2)))
        say(f"{split:>5}: MSE {loss:.4f} (standardised)  RMSE {rmse:.1f} riders/hour  ({len(part)} rows)")


def cmd_predict(args: argparse.Namespace) -> None:
    """`autograd-nn predict`: write a checkpoint's predictions for one split as CSV."""
    model, record = load_trained(args.checkpoint)
    text = predictions_csv(model, dataset(args.data, args.data_seed, record), args.split)
    if args.out == Path("-"):
        sys.stdout.write(text)
        return
    out = args.out if args.out is not None else args.checkpoint.parent / f"predictions_{args.split}.csv"
    write_text(out, text)
    say(f"wrote {out}")


def cmd_graph(args: argparse.Namespace) -> None:
    """`autograd-nn graph`: render the forward and backward graphs for one minibatch."""
    if args.checkpoint is not None:
        if args.hidden is not None:
            raise CLIError("--hidden sizes a fresh network; a checkpoint's network has the size it was trained with")
        model, record = load_trained(args.checkpoint)
        out = args.out if args.out is not None else args.checkpoint.parent / "graphs"
    else:
        model, record = None, None
        out = args.out if args.out is not None else UNTRAINED_GRAPHS
    data = dataset(args.data, args.data_seed, record)
    if args.batch_size > len(data.train):
        raise CLIError(f"--batch-size {args.batch_size} is more than the {len(data.train)} training rows")
    if model is None:
        model = build_network(data.n_features, args.hidden if args.hidden is not None else TrainConfig().hidden)
    written = render_graphs(model, data, out, args.batch_size, expand=args.expand)
    say("wrote:\n" + "\n".join(f"  {p}" for p in written))
