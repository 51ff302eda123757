"""What the CLI writes: the run folder (never taken over silently), predictions in riders
per hour, the plots and the graph renderings."""

from __future__ import annotations

import csv
import io
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from .. import functional as F
from .._atomic import atomic_write
from ..data import BikeSharing
from ..grad_mode import no_grad
from ..tensor import Tensor
from ..training import History
from ._common import CLIError, say


def run_folder(out: Path, force: bool) -> tuple[Path, bool]:
    """The folder this run writes to, and whether it was created for it.

    An existing folder with anything in it is never written into without ``force``: the
    run goes to the first free numbered sibling (``runs/bike-sharing-2``, ``-3``, ...)."""
    if out.exists() and not out.is_dir():
        raise CLIError(f"cannot use --out {out} as the output folder: it is a file")
    if force or not out.exists() or not any(out.iterdir()):
        created = not out.exists()
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise CLIError(f"cannot use --out {out} as the output folder: {err.strerror or err}") from None
        return out, created
    number = 2
    while True:  # mkdir without exist_ok claims a number even against a concurrent run
        chosen = out.with_name(f"{out.name}-{number}")
        try:
            chosen.mkdir()
            break
        except FileExistsError:
            number += 1
        except OSError as err:
            raise CLIError(f"cannot create the output folder {chosen}: {err.strerror or err}") from None
    say(f"note: {out} already holds a run, so this one goes to {chosen} (--force writes into {out} instead)")
    return chosen, True


def remove_if_unused(folder: Path, created: bool) -> None:
    """Take back a folder this run created and left empty."""
    if created:
        try:
            folder.rmdir()
        except OSError:
            pass


def predictions(model: Any, data: BikeSharing, split_name: str) -> tuple[np.ndarray, np.ndarray]:
    """Actual and predicted counts of one split, in riders per hour."""
    split = getattr(data, split_name)
    dtype = model[0].weight.dtype
    with no_grad():  # inference only: record no graph
        predicted = model(Tensor(split.X.astype(dtype))).data
    return data.unscale(split.y[:, 0]), data.unscale(predicted[:, 0])


def predictions_csv(model: Any, data: BikeSharing, split_name: str) -> str:
    actual, predicted = predictions(model, data, split_name)
    split = getattr(data, split_name)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["dteday", "hr", "cnt", "predicted_cnt"])
    for day, hour, a, p in zip(split.dteday, split.hr, actual, predicted):
        writer.writerow([str(day), int(hour), f"{a:.0f}", f"{p:.1f}"])
    return buffer.getvalue()


def plots(out: Path, history: History, model: Any, data: BikeSharing) -> list[Path]:
    """loss_curve.png and predictions.png (needs matplotlib, the `plot` extra)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        say("note: matplotlib is not installed, so no PNG plots were drawn (pip install 'autograd-nn[plot]'); "
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

    actual, predicted = predictions(model, data, "test")
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


def render_graphs(model: Any, data: BikeSharing, out: Path, batch_size: int, expand: bool = False) -> list[Path]:
    """Both views, forward and backward, for the first ``batch_size`` training rows: the
    model (one node per layer, the δ recursion on each) and its op graph (``expand``:
    with Linear and MseLoss drawn as the primitives they declare)."""
    from .. import viz

    dtype = model[0].weight.dtype
    x = Tensor(data.train.X[:batch_size].astype(dtype))
    y = Tensor(data.train.y[:batch_size].astype(dtype))
    # Without a renderer, render_model_graphs writes the DOT files and warns: say it as a note.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", RuntimeWarning)
        written = viz.render_model_graphs(model, x, y, F.mse_loss, out, fused=not expand)
    for warning in caught:
        say(f"note: {warning.message}")
    return written
