"""`autograd-nn train`: train, then write the checkpoint, metrics, predictions, plots and
graphs. A diverged run writes nothing; Ctrl-C saves the last completed epoch."""

from __future__ import annotations

import argparse
import copy
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from .. import checkpoint
from ..training import (
    History,
    TrainConfig,
    TrainingDiverged,
    architecture,
    architecture_json,
    build_network,
    make_optimizer,
    mse,
    train,
)
from ._common import finite_json, say, sigint_deferred, write_text
from ._outputs import plots, predictions_csv, remove_if_unused, render_graphs, run_folder
from ._records import dataset


def _progress(total: int, enabled: bool) -> Any:
    """A tqdm bar on a terminal when tqdm is installed and ``enabled``; otherwise a plain
    line per epoch."""
    if enabled and sys.stderr.isatty():
        try:
            from tqdm import tqdm
        except ImportError:
            pass
        else:
            bar = tqdm(total=total, unit="epoch", desc="train")

            def update(epoch: int, train_loss: float, val_loss: float) -> None:
                bar.set_postfix(train=f"{train_loss:.4f}", val=f"{val_loss:.4f}")
                bar.update(1)

            update.close = bar.close  # type: ignore[attr-defined]
            return update

    width = len(str(total))

    def line(epoch: int, train_loss: float, val_loss: float) -> None:
        say(f"epoch {epoch + 1:>{width}}/{total}  train {train_loss:.4f}  val {val_loss:.4f}")

    line.close = lambda: None  # type: ignore[attr-defined]
    return line


def cmd_train(args: argparse.Namespace) -> int:
    """`autograd-nn train`: train, then write checkpoint, metrics, predictions, plots and graphs."""
    config = TrainConfig(
        hidden=args.hidden, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
        optimizer=args.optimizer, momentum=args.momentum, seed=args.seed, dtype=args.dtype,
    )  # fmt: skip
    data = dataset(args.data, args.data_seed)  # fails before anything is written
    kind = "SYNTHETIC (built-in, seeded)" if data.synthetic else "real UCI data"
    say(f"data: {data.source} — {kind}; {len(data.train)} train / {len(data.val)} val / {len(data.test)} test rows")
    out, created = run_folder(args.out, args.force)  # before training, so a bad --out costs no training run
    model = build_network(data.n_features, config.hidden, seed=config.seed, dtype=config.dtype)
    optimizer = make_optimizer(model, config)
    say(f"model: {data.n_features} → {config.hidden} (sigmoid) → 1, {config.optimizer} lr={config.lr:g}, "
        f"batch {config.batch_size}, {config.epochs} epochs, {config.dtype}")  # fmt: skip
    progress = _progress(config.epochs, enabled=not args.no_progress)
    snapshot: dict[str, Any] = {}
    start = time.perf_counter()

    def on_epoch(epoch: int, train_loss: float, val_loss: float) -> None:
        # The state after each completed epoch, for Ctrl-C: built aside, then swapped in whole.
        nonlocal snapshot
        snapshot = {
            "model": {k: v.numpy().copy() for k, v in model.state_dict().items()},
            "optimizer": copy.deepcopy(optimizer.state_dict()),
            "train": [*snapshot.get("train", ()), train_loss],
            "val": [*snapshot.get("val", ()), val_loss],
        }
        progress(epoch, train_loss, val_loss)

    try:
        # NOTE: overflow in a diverging run is reported once, as TrainingDiverged, not as numpy warnings.
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            train(model, data, config, on_epoch=on_epoch, optimizer=optimizer)
    except TrainingDiverged as err:
        progress.close()
        remove_if_unused(out, created)
        kept = "" if created else f"; the files already in {out} are unchanged"
        print(f"autograd-nn train: error: {err} (or another --optimizer); nothing was written{kept}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        progress.close()
        if not snapshot:
            remove_if_unused(out, created)
            print("autograd-nn train: interrupted before the first epoch finished; nothing was saved", file=sys.stderr)
            return 130
        model.load_state_dict(snapshot["model"])
        optimizer.load_state_dict(snapshot["optimizer"])
        model.eval()
        history = History(snapshot["train"], snapshot["val"], time.perf_counter() - start)
        with sigint_deferred():
            ckpt, _ = _write_run(args, out, model, optimizer, data, config, history)
        print(
            f"autograd-nn train: interrupted; saved the model after epoch {len(history.val)} of {config.epochs} "
            f"to {ckpt} (with metrics.json and predictions.csv)",
            file=sys.stderr,
        )
        return 130
    progress.close()
    history = History(snapshot["train"], snapshot["val"], time.perf_counter() - start)
    with sigint_deferred():
        ckpt, losses = _write_run(args, out, model, optimizer, data, config, history)
    baseline = float(np.mean((data.val.y - data.train.y.mean()) ** 2))
    say(f"done in {history.seconds:.1f} s: train {losses['train']:.4f}  val {losses['val']:.4f}  "
        f"test {losses['test']:.4f}  (standardised MSE; predicting the mean scores {baseline:.4f} on val)")  # fmt: skip
    if losses["val"] > 10 * baseline:
        say(f"note: the validation loss is {losses['val'] / baseline:.3g} times that of predicting the mean: "
            f"this run did not learn (is --lr {config.lr:g} too large?)")  # fmt: skip
    written = [ckpt, ckpt.with_name(f"optimizer{ckpt.suffix}"), out / "metrics.json", out / "predictions.csv"]
    written += plots(out, history, model, data)
    if not args.no_graphs:
        written += render_graphs(model, data, out / "graphs", config.batch_size, expand=args.expand)
    say("wrote:\n" + "\n".join(f"  {p}" for p in written))
    return 0


def _write_run(
    args: argparse.Namespace, out: Path, model: Any, optimizer: Any, data: Any, config: TrainConfig, history: History
) -> tuple[Path, dict[str, float]]:
    """Checkpoint, metrics.json and predictions.csv of the model as it is now; returns the
    checkpoint's path and the final losses."""
    dtype = np.dtype(config.dtype)

    def final_mse(split: str) -> float:
        part = getattr(data, split)
        with np.errstate(over="ignore", invalid="ignore"):
            return mse(model, part.X.astype(dtype), part.y.astype(dtype))

    completed = len(history.val)
    # train() measured the validation loss of this model after its last completed epoch.
    losses = {"train": final_mse("train"), "val": history.val[-1], "test": final_mse("test")}
    baseline = float(np.mean((data.val.y - data.train.y.mean()) ** 2))
    suffix = ".npz" if args.format == "npz" else ".safetensors"
    ckpt = out / f"model{suffix}"
    record = {
        "source": data.source,
        "synthetic": data.synthetic,
        "path": None if args.data is None else str(args.data.resolve()),
        "seed": args.data_seed if args.data_seed is not None else 0,
    }
    metadata = {
        "architecture": architecture_json(model),
        "data": json.dumps(record),
        "config": json.dumps(config.__dict__),
        "epochs_completed": str(completed),
    }
    # The model's state_dict alone, with PyTorch's key names ("0.weight"), so the file loads strictly into
    # torch.nn.Sequential; the optimizer's state (to continue training) in its own file beside it.
    checkpoint.save(optimizer.state_dict(), out / f"optimizer{suffix}", metadata={"model": ckpt.name})
    checkpoint.save(model.state_dict(), ckpt, metadata=metadata)
    metrics = {
        "losses": losses, "mean_predictor_val": baseline, "history": {"train": history.train, "val": history.val},
        "epochs_completed": completed, "interrupted": completed < config.epochs,
        "train_seconds": history.seconds, "data": data.source, "synthetic": data.synthetic,
        "architecture": architecture(model), "config": config.__dict__,
    }  # fmt: skip
    write_text(out / "metrics.json", finite_json(metrics))
    write_text(out / "predictions.csv", predictions_csv(model, data, "test"))
    return ckpt, losses
