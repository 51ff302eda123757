"""What the CLI refuses, and what it does when a run goes wrong: checkpoints that describe
another network, data paths it must not trust, bad numbers, divergence, Ctrl-C, and run
folders that already hold a run."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import warnings
from pathlib import Path

import cli_reference as ref
import numpy as np
import pytest

import autograd_nn as ag
from autograd_nn.cli import main
from autograd_nn.cli._common import finite_json
from autograd_nn.data import synthetic_bike_sharing, write_synthetic_hour_csv
from autograd_nn.training import TrainConfig, build_network, train

QUICK = ["--hidden", "3", "--no-graphs", "--no-progress"]


@pytest.fixture(autouse=True)
def no_plots(monkeypatch):
    monkeypatch.setattr("autograd_nn.cli._train.plots", lambda *args: [])


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    out = tmp_path_factory.mktemp("good")
    assert main(["train", "--epochs", "1", *QUICK, "--out", str(out), "--force"]) == 0
    return out / "model.safetensors"


def rewritten(good, path, **changes):
    """The good checkpoint with some metadata entries replaced (JSON-encoded)."""
    metadata = ag.checkpoint.load_metadata(good)
    for key, value in changes.items():
        old = json.loads(metadata[key])
        metadata[key] = json.dumps(value(old) if callable(value) else value)
    ag.save(ag.load(good), path, metadata=metadata)
    return path


# ------------------------------------------------------- recorded architecture
@pytest.mark.parametrize(
    "change, message",
    [
        (
            {"activation": "tanh"},
            "records activation 'tanh', but this version of autograd-nn builds only the 'sigmoid'",
        ),
        ({"hidden": 10**12}, "records hidden 1000000000000; expected 1 to 100000"),
        ({"hidden": True}, "records hidden True"),
        ({"hidden": 3.0}, "records hidden 3.0"),
        ({"n_features": 57}, "records n_features 57"),
        ({"outputs": 2}, "records outputs 2"),
        ({"network": "resnet"}, "records network 'resnet'"),
        ({"dtype": "float16"}, "records dtype 'float16'"),
        ({"extra": 1}, "has the fields 'activation', 'dtype', 'extra'"),
    ],
)
@pytest.mark.parametrize("command", ["evaluate", "predict", "graph"])
def test_a_recorded_architecture_is_rebuilt_exactly_or_refused(good, tmp_path, capsys, change, message, command):
    path = rewritten(good, tmp_path / "odd.safetensors", architecture=lambda spec: {**spec, **change})
    out = [] if command == "evaluate" else ["--out", str(tmp_path / "out")]
    assert main([command, str(path), *out]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_weights_must_have_the_recorded_dtype(good, tmp_path, capsys):
    state = ag.load(good)
    state = {k: v.numpy().astype(np.float64) for k, v in state.items()}
    path = tmp_path / "f64.safetensors"
    ag.save(state, path, metadata=ag.checkpoint.load_metadata(good))
    assert main(["evaluate", str(path)]) == 2
    assert "'0.weight' is float64, but the architecture metadata says float32" in capsys.readouterr().err


# --------------------------------------------------------------- recorded data
def test_a_recorded_data_path_that_is_not_a_bike_csv_is_refused_unread(good, tmp_path, capsys):
    secret = tmp_path / "passwd"
    secret.write_text("root:x:0:0:SECRET-FIRST-LINE\nSECRET-SECOND-LINE\n")
    path = rewritten(good, tmp_path / "c.safetensors", data={"synthetic": False, "path": str(secret), "seed": 0})
    for command in ("evaluate", "predict", "graph"):
        assert main([command, str(path), *([] if command == "evaluate" else ["--out", str(tmp_path / "o")])]) == 2
        error = capsys.readouterr().err
        assert "SECRET" not in error
        assert f"names {str(secret)!r} as its data, but that file is not a bike-sharing CSV" in error
        assert "pass --data" in error


def test_a_recorded_csv_with_bad_rows_is_refused_without_showing_them(good, tmp_path, capsys):
    lines = ag.data.synthetic_hour_csv(seed=0).splitlines()
    lines[3] = lines[3].replace(",", ",SECRET-VALUE", 1)
    csv_path = tmp_path / "hour.csv"
    csv_path.write_text("\n".join(lines) + "\n")
    path = rewritten(good, tmp_path / "c.safetensors", data={"synthetic": False, "path": str(csv_path), "seed": 0})
    assert main(["evaluate", str(path)]) == 2
    error = capsys.readouterr().err
    assert "SECRET" not in error and "is not valid bike-sharing data" in error
    assert main(["evaluate", str(path), "--data", str(csv_path)]) == 2  # asked for explicitly: the details
    assert "SECRET-VALUE" in capsys.readouterr().err


@pytest.mark.parametrize(
    "record, message",
    [
        ({"synthetic": False, "path": "/no/such/hour.csv", "seed": 0}, "'/no/such/hour.csv', which is missing"),
        ({"synthetic": False, "path": "/", "seed": 0}, "which is missing or not a file"),
        ({"synthetic": False, "path": None, "seed": 0}, "data metadata is malformed"),
        ({"synthetic": True, "path": None, "seed": -1}, "data metadata is malformed"),
        ({"synthetic": "yes", "path": None, "seed": 0}, "data metadata is malformed"),
    ],
)
def test_a_bad_data_record_is_refused(good, tmp_path, capsys, record, message):
    path = rewritten(good, tmp_path / "c.safetensors", data=record)
    assert main(["evaluate", str(path)]) == 2
    assert message in capsys.readouterr().err
    assert main(["evaluate", str(path), "--data-seed", "0"]) == (2 if "malformed" in message else 0)


def test_a_recorded_csv_is_used_when_it_is_one(tmp_path, capsys):
    csv_path = write_synthetic_hour_csv(tmp_path / "hour.csv", seed=2)
    assert main(["train", "--epochs", "1", *QUICK, "--data", str(csv_path), "--out", str(tmp_path / "r")]) == 0
    capsys.readouterr()
    assert main(["evaluate", str(tmp_path / "r" / "model.safetensors")]) == 0
    out = capsys.readouterr().out
    assert f"data: {str(csv_path)!r}" in out and "SYNTHETIC" not in out


# ------------------------------------------------------------------- numbers
@pytest.mark.parametrize(
    "options, message",
    [
        (["--lr", "inf"], "argument --lr: must be a positive finite number, got inf"),
        (["--lr", "nan"], "argument --lr: must be a positive finite number"),
        (["--lr", "0"], "argument --lr: must be a positive finite number"),
        (["--lr", "-1"], "argument --lr: must be a positive finite number"),
        (["--lr", "fast"], "argument --lr: expected a positive number, got 'fast'"),
        (["--epochs", "0"], "argument --epochs: must be from 1 to 1000000, got 0"),
        (["--batch-size", "-1"], "argument --batch-size: must be from 1 to 1000000, got -1"),
        (["--batch-size", "0"], "argument --batch-size: must be from 1"),
        (["--hidden", "1000000000000"], "argument --hidden: must be from 1 to 100000"),
        (["--hidden", "2.5"], "argument --hidden: expected an integer from 1 to 100000, got '2.5'"),
        (["--momentum", "1"], "argument --momentum: must be in [0, 1), got 1"),
        (["--seed", "-1"], "argument --seed: must be from 0 to 4294967295, got -1"),
        (["--data-seed", "x"], "argument --data-seed: expected an integer"),
    ],
)
def test_train_numbers_are_validated_before_anything_runs(tmp_path, capsys, options, message):
    assert main(["train", *options, "--out", str(tmp_path / "o")]) == 2
    captured = capsys.readouterr()
    assert message in captured.err and "data:" not in captured.out
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(
    "options, message",
    [
        (["--batch-size", "-1"], "argument --batch-size: must be from 1 to 1000000, got -1"),
        (["--batch-size", "0"], "argument --batch-size: must be from 1"),
        (["--batch-size", "20000"], "--batch-size 20000 is more than the 15576 training rows"),
        (["--hidden", "0"], "argument --hidden: must be from 1"),
    ],
)
def test_graph_numbers_are_validated(tmp_path, capsys, options, message):
    assert main(["graph", *options, "--out", str(tmp_path / "g")]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "g").exists()


def test_graph_of_a_checkpoint_refuses_hidden(good, tmp_path, capsys):
    assert main(["graph", str(good), "--hidden", "9", "--out", str(tmp_path / "g")]) == 2
    assert "--hidden sizes a fresh network" in capsys.readouterr().err


# ---------------------------------------------------------------- divergence
def test_a_diverging_run_stops_clearly_and_writes_nothing(tmp_path, capsys, recwarn):
    run = tmp_path / "run"
    assert main(["train", "--epochs", "1", *QUICK, "--out", str(run)]) == 0
    before = {p.name: p.read_bytes() for p in run.iterdir()}
    capsys.readouterr()
    for extra in ([], ["--force"]):
        code = main(["train", "--epochs", "3", *QUICK, "--optimizer", "sgd", "--lr", "1e6", "--out", str(run), *extra])
        assert code == 1
        captured = capsys.readouterr()
        assert "training diverged: the loss became" in captured.err and "batch" in captured.err
        assert "nothing was written" in captured.err and "Traceback" not in captured.err
        assert "epoch 3/3" not in captured.out
    assert {p.name: p.read_bytes() for p in run.iterdir()} == before  # the good run is untouched
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]  # the numbered folder was taken back
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]  # no raw numpy overflow warnings


def test_a_run_that_did_not_learn_says_so(tmp_path, capsys):
    assert main(["train", "--epochs", "1", *QUICK, "--lr", "1e6", "--out", str(tmp_path)]) == 0  # Adam: finite
    out = capsys.readouterr().out
    assert "times that of predicting the mean: this run did not learn (is --lr 1e+06 too large?)" in out


def test_metrics_json_writes_null_for_non_finite_numbers():
    text = finite_json({"a": float("nan"), "b": [1.0, float("inf"), np.float32("-inf")], "c": {"d": (2, np.nan)}})

    def refuse(constant):
        raise AssertionError(f"{constant} is not JSON")

    assert json.loads(text, parse_constant=refuse) == {"a": None, "b": [1.0, None, None], "c": {"d": [2, None]}}


def test_metrics_json_of_a_run_is_strict_json(good):
    text = (good.parent / "metrics.json").read_text()
    assert "NaN" not in text and "Infinity" not in text
    json.loads(text, parse_constant=lambda c: pytest.fail(f"{c} in metrics.json"))


# ------------------------------------------------------------- run folders
def test_an_existing_run_is_never_overwritten_without_force(tmp_path, capsys):
    run = tmp_path / "runs" / "bike"
    assert main(["train", "--epochs", "1", *QUICK, "--out", str(run)]) == 0
    first = (run / "model.safetensors").read_bytes()
    capsys.readouterr()
    for number in (2, 3):
        assert main(["train", "--epochs", "1", *QUICK, "--seed", str(number), "--out", str(run)]) == 0
        out = capsys.readouterr().out
        assert f"note: {run} already holds a run, so this one goes to {run}-{number} (--force writes" in out
        assert (tmp_path / "runs" / f"bike-{number}" / "model.safetensors").exists()
    assert (run / "model.safetensors").read_bytes() == first
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["train", "--epochs", "1", *QUICK, "--out", str(empty)]) == 0  # an empty folder is free
    assert (empty / "model.safetensors").exists() and not (tmp_path / "empty-2").exists()


# ------------------------------------------------------------------- Ctrl-C
def _interrupt_at_step(monkeypatch, step):
    calls = {"n": 0}
    original = ag.optim.Adam.step

    def step_then_interrupt(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == step:
            raise KeyboardInterrupt
        return original(self, *args, **kwargs)

    monkeypatch.setattr(ag.optim.Adam, "step", step_then_interrupt)


def test_ctrl_c_mid_epoch_saves_the_last_completed_epoch(tmp_path, monkeypatch, capsys):
    data = synthetic_bike_sharing(seed=0)
    per_epoch = math.ceil(len(data.train) / 1000)
    reference = build_network(56, 3)
    train(reference, data, TrainConfig(hidden=3, epochs=2, batch_size=1000))  # what two epochs give
    _interrupt_at_step(monkeypatch, 2 * per_epoch + 5)  # inside the third epoch
    out = tmp_path / "run"
    assert main(["train", "--epochs", "10", "--batch-size", "1000", *QUICK, "--out", str(out)]) == 130
    err = capsys.readouterr().err
    assert f"interrupted; saved the model after epoch 2 of 10 to {out / 'model.safetensors'}" in err
    loaded = ag.load(out / "model.safetensors")
    for key, value in reference.state_dict().items():
        np.testing.assert_array_equal(loaded[key].numpy(), value.numpy())
    assert ag.load(out / "optimizer.safetensors")["state"][0]["step"] == 2 * per_epoch
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["interrupted"] is True and metrics["epochs_completed"] == 2 and len(metrics["history"]["val"]) == 2
    assert ag.checkpoint.load_metadata(out / "model.safetensors")["epochs_completed"] == "2"


def test_ctrl_c_before_the_first_epoch_saves_nothing(tmp_path, monkeypatch, capsys):
    _interrupt_at_step(monkeypatch, 3)
    assert main(["train", "--epochs", "2", *QUICK, "--out", str(tmp_path / "run")]) == 130
    assert "interrupted before the first epoch finished; nothing was saved" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


def default_sigint() -> None:
    """In the child before it starts: SIGINT as a terminal gives it. A child inherits an ignored
    SIGINT, and Python then never turns it into KeyboardInterrupt; twice in a full run the child
    took no notice of the signal, with nothing on stderr."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child process is POSIX")
def test_sigint_during_training_saves_atomically_and_exits_130(tmp_path):
    out = tmp_path / "run"
    command = [sys.executable, "-m", "autograd_nn", "train", "--epochs", "100000", "--batch-size", "2048", *QUICK]
    child = subprocess.Popen(
        [*command, "--out", str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"}, preexec_fn=default_sigint,
    )  # fmt: skip
    try:
        for line in child.stdout:
            if line.startswith("epoch") and line.split()[1].startswith("3/"):
                break
        child.send_signal(signal.SIGINT)
        _, err = child.communicate(timeout=60)
    finally:
        child.kill()
    assert child.returncode == 130, err
    assert "Traceback" not in err and "interrupted; saved the model after epoch" in err
    completed = int(err.split("after epoch ")[1].split()[0])
    assert completed >= 3
    arrays, metadata = ref.read_checkpoint(out / "model.safetensors")
    assert metadata["epochs_completed"] == str(completed)
    metrics = json.loads((out / "metrics.json").read_text())
    assert len(metrics["history"]["val"]) == completed and metrics["interrupted"] is True
    data = synthetic_bike_sharing(seed=0)
    # the saved weights are those whose validation loss that epoch reported
    assert ref.mse(arrays, data.val.X, data.val.y) == pytest.approx(metrics["history"]["val"][-1], rel=1e-5)
    assert sorted(p.name for p in out.iterdir()) == [
        "metrics.json", "model.safetensors", "optimizer.safetensors", "predictions.csv",
    ]  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ag.load(out / "model.safetensors")  # intact: the integrity check passes


def test_ctrl_c_outside_training_exits_130(monkeypatch, capsys):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("autograd_nn.cli._train.dataset", interrupted)
    assert main(["train", "--out", str(Path("never"))]) == 130
    assert capsys.readouterr().err.strip() == "autograd-nn train: interrupted"
    assert not Path("never").exists()


@pytest.mark.parametrize("command", ["train", "evaluate", "predict", "graph"])
def test_data_and_data_seed_exclude_each_other(tmp_path, capsys, command):
    target = [] if command == "train" else [str(tmp_path / "m.safetensors")]
    assert main([command, *target, "--data", "hour.csv", "--data-seed", "1"]) == 2
    assert "argument --data-seed: not allowed with argument --data" in capsys.readouterr().err
