"""``autograd-nn``: train the post's bike-sharing network, evaluate it, predict with it,
and draw its graphs.

    autograd-nn train [--data hour.csv] [--hidden 25] [--epochs 40] [--out runs/bike-sharing]
    autograd-nn evaluate runs/bike-sharing/model.safetensors
    autograd-nn predict runs/bike-sharing/model.safetensors --out predictions.csv
    autograd-nn graph runs/bike-sharing/model.safetensors --out graphs/

Without ``--data`` every command uses the built-in SYNTHETIC data (seeded, nothing to
download); ``--data path/to/hour.csv`` uses the real UCI file (Fanaee-T & Gama 2013,
doi:10.1007/s13748-013-0040-3).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from . import checkpoint
from . import functional as F
from ._atomic import atomic_write, atomic_write_text
from .data import BikeSharing, DataFormatError, load_bike_sharing, synthetic_bike_sharing
from .grad_mode import no_grad
from .tensor import Tensor
from .training import OPTIMIZERS, History, TrainConfig, architecture, architecture_json, build_network, mse, train

DEFAULT_OUT = Path("runs") / "bike-sharing"
CHECKPOINT_NAME = "model.safetensors"


class CLIError(Exception):
    """A problem with the user's input: printed as one line, exit status 2."""


# --------------------------------------------------------------------- arguments
def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="autograd-nn", description="Train and inspect the bike-sharing network of the backprop post."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def data_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--data", type=Path, help="the UCI hour.csv (default: the built-in synthetic data)")
        p.add_argument(
            "--data-seed", type=int, default=None, help="seed of the synthetic data (default: 0, or the checkpoint's)"
        )

    t = commands.add_parser("train", help="train the 56 → hidden (sigmoid) → 1 network")
    data_options(t)
    defaults = TrainConfig()
    t.add_argument("--hidden", type=int, default=defaults.hidden, help=f"hidden units (default: {defaults.hidden})")
    t.add_argument(
        "--epochs", type=int, default=defaults.epochs, help=f"passes over the training set (default: {defaults.epochs})"
    )
    t.add_argument(
        "--batch-size", type=int, default=defaults.batch_size, help=f"minibatch size (default: {defaults.batch_size})"
    )
    t.add_argument("--lr", type=float, default=defaults.lr, help=f"learning rate (default: {defaults.lr})")
    t.add_argument("--optimizer", choices=OPTIMIZERS, default=defaults.optimizer, help=f"default: {defaults.optimizer}")
    t.add_argument("--momentum", type=float, default=defaults.momentum, help="SGD momentum (default: 0)")
    t.add_argument("--seed", type=int, default=defaults.seed, help="seed of initialisation and shuffling (default: 0)")
    t.add_argument("--dtype", choices=("float32", "float64"), default=defaults.dtype, help="default: float32")
    t.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output folder (default: {DEFAULT_OUT})")
    t.add_argument("--format", choices=("safetensors", "npz"), default="safetensors", help="checkpoint format")
    t.add_argument("--no-graphs", action="store_true", help="do not render the computation graphs")
    t.add_argument("--no-progress", action="store_true", help="no progress bar, even on a terminal")

    for name, text in (("evaluate", "print the losses of a checkpoint"), ("predict", "write predictions as CSV")):
        p = commands.add_parser(name, help=text)
        p.add_argument("checkpoint", type=Path)
        data_options(p)
        if name == "predict":
            p.add_argument("--split", choices=("train", "val", "test"), default="test", help="default: test")
            p.add_argument("--out", type=Path, help="CSV file to write (default: print to stdout)")

    g = commands.add_parser("graph", help="render the forward and backward graphs for one minibatch")
    g.add_argument("checkpoint", type=Path, nargs="?", help="a trained model (default: a fresh network)")
    data_options(g)
    g.add_argument("--batch-size", type=int, default=128)
    g.add_argument("--hidden", type=int, default=defaults.hidden, help="hidden units of a fresh network")
    g.add_argument("--out", type=Path, default=DEFAULT_OUT / "graphs", help="output folder")
    return parser


# ------------------------------------------------------------------------ helpers
def _dataset(path: Path | None, seed: int | None, recorded: dict[str, Any] | None = None) -> BikeSharing:
    """The data named on the command line, else the data a checkpoint was trained on,
    else the synthetic default."""
    recorded = recorded or {}
    if path is None and seed is None and recorded.get("path"):
        path = Path(recorded["path"])
        if not path.exists():
            raise CLIError(f"the checkpoint was trained on {path}, which is missing; pass --data")
    if path is None:
        return synthetic_bike_sharing(seed=seed if seed is not None else recorded.get("seed", 0))
    return load_bike_sharing(path)


def _say(message: str) -> None:
    print(message, flush=True)


def _progress(total: int, enabled: bool) -> Any:
    """A tqdm bar on a terminal when tqdm is installed; otherwise a plain line per epoch."""
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
        _say(f"epoch {epoch + 1:>{width}}/{total}  train {train_loss:.4f}  val {val_loss:.4f}")

    line.close = lambda: None  # type: ignore[attr-defined]
    return line


def _prepare_output_folder(out: Path) -> None:
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise CLIError(f"cannot use --out {out} as the output folder: {err.strerror or err}") from None


def _write_text_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, text)


def _predictions(model: Any, data: BikeSharing, split_name: str) -> tuple[np.ndarray, np.ndarray]:
    split = getattr(data, split_name)
    dtype = model[0].weight.dtype
    with no_grad():  # inference only: record no graph
        predicted = model(Tensor(split.X.astype(dtype))).data
    return data.unscale(split.y[:, 0]), data.unscale(predicted[:, 0])


def _predictions_csv(model: Any, data: BikeSharing, split_name: str) -> str:
    actual, predicted = _predictions(model, data, split_name)
    split = getattr(data, split_name)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["dteday", "hr", "cnt", "predicted_cnt"])
    for day, hour, a, p in zip(split.dteday, split.hr, actual, predicted):
        writer.writerow([str(day), int(hour), f"{a:.0f}", f"{p:.1f}"])
    return buffer.getvalue()


def _plots(out: Path, history: History, model: Any, data: BikeSharing) -> list[Path]:
    """loss_curve.png and predictions.png (needs matplotlib, the `plot` extra)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        _say("note: matplotlib is not installed, so no PNG plots were drawn (pip install 'autograd-nn[plot]'); "
             "the numbers are in metrics.json and predictions.csv")  # fmt: skip
        return []
    label = "synthetic" if data.synthetic else "UCI"
    written = []
    fig, ax = plt.subplots(figsize=(7, 4))
    epochs = np.arange(1, len(history.train) + 1)
    ax.plot(epochs, history.train, label="train")
    ax.plot(epochs, history.val, label="validation")
    ax.set(xlabel="epoch", ylabel="MSE (standardised cnt)", title=f"Training loss ({label} data)")
    ax.set_ylim(bottom=0)
    ax.legend()
    fig.tight_layout()
    written.append(_save_figure(fig, out / "loss_curve.png"))
    plt.close(fig)

    actual, predicted = _predictions(model, data, "test")
    times = data.test.timestamps
    fig, ax = plt.subplots(figsize=(10, 4))
    ax.plot(times, actual, label="data", linewidth=1)
    ax.plot(times, predicted, label="prediction", linewidth=1)
    ax.set(ylabel="riders per hour", title=f"Test period: predictions vs data ({label})")
    ax.legend()
    fig.autofmt_xdate()
    fig.tight_layout()
    written.append(_save_figure(fig, out / "predictions.png"))
    plt.close(fig)
    return written


def _save_figure(fig: Any, path: Path) -> Path:
    return atomic_write(path, lambda f: fig.savefig(f, format="png", dpi=110))


def _render_graphs(model: Any, data: BikeSharing, out: Path, batch_size: int) -> list[Path]:
    from . import viz

    dtype = model[0].weight.dtype
    x = Tensor(data.train.X[:batch_size].astype(dtype))
    y = Tensor(data.train.y[:batch_size].astype(dtype))
    # Without a renderer, render_model_graphs writes the DOT files and warns: say it as a note.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", RuntimeWarning)
        written = viz.render_model_graphs(model, x, y, F.mse_loss, out)
    for warning in caught:
        _say(f"note: {warning.message}")
    return written


def _load_model(path: Path) -> tuple[Any, dict[str, Any]]:
    """The network of a `train` checkpoint, and the record of the data it was trained on."""
    if not path.exists():
        raise CLIError(f"no checkpoint at {path}; run `autograd-nn train` first")
    metadata = checkpoint.load_metadata(path)
    if "architecture" not in metadata:
        raise CLIError(f"{path} is not a checkpoint written by `autograd-nn train` (no architecture in its metadata)")
    try:
        spec = json.loads(metadata["architecture"])
        model = build_network(int(spec["n_features"]), int(spec["hidden"]), dtype=spec.get("dtype", "float32"))
        recorded = json.loads(metadata.get("data", "{}"))
    except (ValueError, KeyError, TypeError) as err:
        raise CLIError(f"{path}: its architecture metadata is malformed ({err!r})") from None
    state = checkpoint.load(path)
    model.load_state_dict(state["model"] if "model" in state else state)
    model.eval()
    return model, recorded if isinstance(recorded, dict) else {}


# ----------------------------------------------------------------------- commands
def cmd_train(args: argparse.Namespace) -> None:
    """`autograd-nn train`: train, then write checkpoint, metrics, predictions, plots and graphs."""
    config = TrainConfig(
        hidden=args.hidden, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
        optimizer=args.optimizer, momentum=args.momentum, seed=args.seed, dtype=args.dtype,
    )  # fmt: skip
    data = _dataset(args.data, args.data_seed)  # fails before anything is written
    kind = "SYNTHETIC (built-in, seeded)" if data.synthetic else "real UCI data"
    _say(f"data: {data.source} — {kind}; {len(data.train)} train / {len(data.val)} val / {len(data.test)} test rows")
    out: Path = args.out
    _prepare_output_folder(out)  # before training, so a bad --out costs no training run
    model = build_network(data.n_features, config.hidden, seed=config.seed, dtype=config.dtype)
    _say(f"model: {data.n_features} → {config.hidden} (sigmoid) → 1, {config.optimizer} lr={config.lr}, "
         f"batch {config.batch_size}, {config.epochs} epochs, {config.dtype}")  # fmt: skip
    progress = _progress(config.epochs, enabled=not args.no_progress)
    try:
        optimizer, history = train(model, data, config, on_epoch=progress)
    finally:
        progress.close()

    dtype = np.dtype(config.dtype)

    def final_mse(split: str) -> float:
        part = getattr(data, split)
        return mse(model, part.X.astype(dtype), part.y.astype(dtype))

    # train() already measured the validation loss of the final model after its last epoch.
    losses = {"train": final_mse("train"), "val": history.val[-1], "test": final_mse("test")}
    baseline = float(np.mean((data.val.y - data.train.y.mean()) ** 2))
    _say(f"done in {history.seconds:.1f} s: train {losses['train']:.4f}  val {losses['val']:.4f}  "
         f"test {losses['test']:.4f}  (standardised MSE; predicting the mean scores {baseline:.4f} on val)")  # fmt: skip

    suffix = ".npz" if args.format == "npz" else ".safetensors"
    ckpt = out / f"model{suffix}"
    metadata = {
        "architecture": architecture_json(model),
        "data": json.dumps(
            {
                "source": data.source,
                "synthetic": data.synthetic,
                "path": None if args.data is None else str(args.data.resolve()),
                "seed": args.data_seed if args.data_seed is not None else 0,
            }
        ),
        "config": json.dumps(config.__dict__),
    }
    checkpoint.save({"model": model.state_dict(), "optimizer": optimizer.state_dict()}, ckpt, metadata=metadata)
    metrics = {
        "losses": losses, "mean_predictor_val": baseline, "history": {"train": history.train, "val": history.val},
        "train_seconds": history.seconds, "data": data.source, "synthetic": data.synthetic,
        "architecture": architecture(model), "config": config.__dict__,
    }  # fmt: skip
    _write_text_atomic(out / "metrics.json", json.dumps(metrics, indent=2) + "\n")
    _write_text_atomic(out / "predictions.csv", _predictions_csv(model, data, "test"))
    written = [ckpt, out / "metrics.json", out / "predictions.csv"]
    written += _plots(out, history, model, data)
    if not args.no_graphs:
        written += _render_graphs(model, data, out / "graphs", config.batch_size)
    _say("wrote:\n" + "\n".join(f"  {p}" for p in written))


def cmd_evaluate(args: argparse.Namespace) -> None:
    """`autograd-nn evaluate`: print a checkpoint's loss on each split."""
    model, recorded = _load_model(args.checkpoint)
    data = _dataset(args.data, args.data_seed, recorded)
    dtype = model[0].weight.dtype
    _say(f"data: {data.source}{' (SYNTHETIC)' if data.synthetic else ''}")
    for split in ("train", "val", "test"):
        part = getattr(data, split)
        loss = mse(model, part.X.astype(dtype), part.y.astype(dtype))
        actual, predicted = _predictions(model, data, split)
        rmse = float(np.sqrt(np.mean((actual - predicted) ** 2)))
        _say(f"{split:>5}: MSE {loss:.4f} (standardised)  RMSE {rmse:.1f} riders/hour  ({len(part)} rows)")


def cmd_predict(args: argparse.Namespace) -> None:
    """`autograd-nn predict`: write a checkpoint's predictions for one split as CSV."""
    model, recorded = _load_model(args.checkpoint)
    text = _predictions_csv(model, _dataset(args.data, args.data_seed, recorded), args.split)
    if args.out is None:
        sys.stdout.write(text)
    else:
        _write_text_atomic(args.out, text)
        _say(f"wrote {args.out}")


def cmd_graph(args: argparse.Namespace) -> None:
    """`autograd-nn graph`: render the forward and backward graphs for one minibatch."""
    model, recorded = _load_model(args.checkpoint) if args.checkpoint else (None, {})
    data = _dataset(args.data, args.data_seed, recorded)
    if model is None:
        model = build_network(data.n_features, args.hidden)
    written = _render_graphs(model, data, args.out, args.batch_size)
    _say("wrote:\n" + "\n".join(f"  {p}" for p in written))


COMMANDS = {"train": cmd_train, "evaluate": cmd_evaluate, "predict": cmd_predict, "graph": cmd_graph}


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``autograd-nn`` console script; returns the exit status."""
    args = _parser().parse_args(argv)
    try:
        COMMANDS[args.command](args)
    except (CLIError, DataFormatError, checkpoint.CheckpointError, OSError) as err:
        print(f"autograd-nn {args.command}: error: {err}", file=sys.stderr)
        return 2
    except (ValueError, RuntimeError) as err:  # e.g. a checkpoint of another architecture
        print(f"autograd-nn {args.command}: error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
