"""The main job end to end: `autograd-nn train / evaluate / predict / graph`, its numbers
checked against the test's own float64 forward of the saved weights."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import cli_reference as ref
import numpy as np
import pytest

import autograd_nn as ag
from autograd_nn import checkpoint, nn
from autograd_nn.cli import main
from autograd_nn.data import synthetic_bike_sharing, synthetic_hour_csv
from autograd_nn.training import TrainConfig, build_network, mse, train

REAL_CSV = Path(__file__).resolve().parents[3] / "shared" / "data" / "bike-sharing" / "hour.csv"


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("run")
    assert main(["train", "--epochs", "3", "--hidden", "8", "--out", str(out), "--no-progress"]) == 0
    return out


def test_train_writes_checkpoint_metrics_plots_and_graphs(trained_run):
    names = {p.name for p in trained_run.iterdir()}
    assert {"model.safetensors", "optimizer.safetensors", "metrics.json", "predictions.csv", "loss_curve.png"} <= names
    assert "predictions.png" in names
    graphs = {p.name for p in (trained_run / "graphs").iterdir()}
    assert {"model_forward.dot", "model_backward.dot", "ops_forward.dot", "ops_backward.dot"} <= graphs
    for png in ("loss_curve.png", "predictions.png"):
        assert (trained_run / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    metrics = json.loads((trained_run / "metrics.json").read_text())
    assert metrics["synthetic"] is True and len(metrics["history"]["val"]) == 3
    assert metrics["epochs_completed"] == 3 and metrics["interrupted"] is False


def test_metrics_json_holds_the_saved_models_losses(trained_run):
    """Every loss in metrics.json against the test's own forward of the saved weights, and
    the mean predictor against its definition."""
    metrics = json.loads((trained_run / "metrics.json").read_text())
    arrays, _ = ref.read_checkpoint(trained_run / "model.safetensors")
    data = synthetic_bike_sharing(seed=0)
    for split in ("train", "val", "test"):
        part = getattr(data, split)
        assert metrics["losses"][split] == pytest.approx(ref.mse(arrays, part.X, part.y), rel=1e-5)
    assert metrics["history"]["val"][-1] == metrics["losses"]["val"]  # measured after the last epoch
    baseline = float(np.mean((data.val.y - data.train.y.mean()) ** 2))
    assert metrics["mean_predictor_val"] == pytest.approx(baseline, rel=1e-12)
    assert metrics["losses"]["val"] < 0.5 * baseline  # three epochs learn something


def test_training_beats_the_mean_predictor_on_synthetic_data():
    data = synthetic_bike_sharing(seed=1)
    config = TrainConfig(hidden=10, epochs=4, seed=1)
    model = build_network(data.n_features, config.hidden, seed=config.seed)
    before = mse(model, data.val.X.astype(np.float32), data.val.y.astype(np.float32))
    _, history = train(model, data, config)
    mean_predictor = float(np.mean((data.val.y - data.train.y.mean()) ** 2))
    assert history.val[-1] < 0.35 * mean_predictor
    assert history.val[-1] < before and history.train[-1] < history.train[0]


@pytest.mark.skipif(not REAL_CSV.exists(), reason="the UCI hour.csv is not in ../shared")
def test_default_training_meets_the_post_target_on_real_data(tmp_path):
    assert main(["train", "--data", str(REAL_CSV), "--out", str(tmp_path), "--no-graphs", "--no-progress"]) == 0
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["synthetic"] is False
    assert metrics["losses"]["val"] < 0.18  # the original project's pass mark


def test_evaluate_prints_each_splits_mse_of_the_saved_model(trained_run, capsys):
    assert main(["evaluate", str(trained_run / "model.safetensors")]) == 0
    report = capsys.readouterr().out
    assert "SYNTHETIC" in report
    pattern = r"(train|val|test): MSE ([0-9.]+) \(standardised\)  RMSE ([0-9.]+) riders/hour  \((\d+) rows\)"
    printed = {m[0]: (float(m[1]), float(m[2]), int(m[3])) for m in re.findall(pattern, report)}
    assert sorted(printed) == ["test", "train", "val"]
    metrics = json.loads((trained_run / "metrics.json").read_text())
    arrays, _ = ref.read_checkpoint(trained_run / "model.safetensors")
    data = synthetic_bike_sharing(seed=0)
    _, std = ref.cnt_scaling(synthetic_hour_csv(seed=0))
    for split, (loss, rmse, rows) in printed.items():
        part = getattr(data, split)
        assert rows == len(part)
        assert loss == pytest.approx(ref.mse(arrays, part.X, part.y), abs=6e-5)  # printed to 4 decimals
        assert loss == pytest.approx(metrics["losses"][split], abs=6e-5)
        riders = (ref.forward(arrays, part.X) - part.y) * std
        assert rmse == pytest.approx(float(np.sqrt(np.mean(riders**2))), abs=0.06)


def test_predictions_are_the_saved_models_output_in_riders_per_hour(trained_run, tmp_path):
    """predictions.csv from train (the model in memory) and from predict (the reloaded
    checkpoint) against the test's own unscaled forward of the saved weights."""
    out = tmp_path / "pred.csv"
    assert main(["predict", str(trained_run / "model.safetensors"), "--out", str(out)]) == 0
    from_checkpoint = ref.read_predictions(out.read_text())
    from_training = ref.read_predictions((trained_run / "predictions.csv").read_text())
    assert from_checkpoint == from_training  # the reloaded model gives the saved model's outputs
    raw = synthetic_hour_csv(seed=0)
    counts = ref.cnt_column(raw)
    mean, std = ref.cnt_scaling(raw)
    data = synthetic_bike_sharing(seed=0)
    arrays, _ = ref.read_checkpoint(trained_run / "model.safetensors")
    expected = ref.forward(arrays, data.test.X)[:, 0] * std + mean
    assert len(from_checkpoint) == len(data.test)
    for row, day, hour, value in zip(from_checkpoint, data.test.dteday, data.test.hr, expected):
        assert (row["dteday"], int(row["hr"])) == (str(day), int(hour))
        assert float(row["cnt"]) == counts[(row["dteday"], int(row["hr"]))]
        assert float(row["predicted_cnt"]) == pytest.approx(value, abs=0.05 + 1e-5 * abs(value))


def test_a_reloaded_checkpoint_gives_the_saved_models_outputs(tmp_path):
    data = synthetic_bike_sharing(seed=0)
    config = TrainConfig(hidden=6, epochs=2, seed=4)
    model = build_network(data.n_features, config.hidden, seed=config.seed)
    train(model, data, config)
    with ag.no_grad():
        before = model(data.test.X.astype(np.float32)).numpy()
    assert main(["train", "--hidden", "6", "--epochs", "2", "--seed", "4", "--out", str(tmp_path), "--no-graphs"]) == 0
    state = checkpoint.load(tmp_path / "model.safetensors")
    reloaded = build_network(data.n_features, 6, seed=99)  # other weights until loaded
    reloaded.load_state_dict(state)  # the model's state_dict alone (the optimizer's is in optimizer.safetensors)
    with ag.no_grad():
        after = reloaded(data.test.X.astype(np.float32)).numpy()
    np.testing.assert_array_equal(after, before)  # the CLI trains exactly as the library does
    arrays, _ = ref.read_checkpoint(tmp_path / "model.safetensors")
    np.testing.assert_allclose(after, ref.forward(arrays, data.test.X), rtol=1e-5, atol=1e-5)


def test_graph_command(trained_run, tmp_path, capsys):
    assert main(["graph", str(trained_run / "model.safetensors"), "--out", str(tmp_path), "--batch-size", "16"]) == 0
    assert (tmp_path / "model_backward.dot").read_text().count("δ") > 0


def test_bad_csv_fails_clearly_and_overwrites_nothing(tmp_path, capsys):
    out = tmp_path / "run"
    out.mkdir()
    sentinel = out / "model.safetensors"
    sentinel.write_bytes(b"previous run")
    bad = tmp_path / "hour.csv"
    bad.write_text("instant,dteday,season\n1,2011-01-01,1\n")
    assert main(["train", "--data", str(bad), "--out", str(out), "--epochs", "1"]) == 2
    error = capsys.readouterr().err
    assert "missing" in error and "hour.csv" in error
    assert sentinel.read_bytes() == b"previous run" and sorted(p.name for p in out.iterdir()) == ["model.safetensors"]
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    assert main(["train", "--data", str(empty), "--out", str(out)]) == 2
    assert "empty" in capsys.readouterr().err


def test_nan_in_data_is_reported(tmp_path, capsys):
    text = ag.data.synthetic_hour_csv(seed=0).splitlines()
    header, row = text[0].split(","), text[5].split(",")
    row[header.index("temp")] = "nan"
    text[5] = ",".join(row)
    path = tmp_path / "hour.csv"
    path.write_text("\r\n".join(text) + "\r\n")
    assert main(["train", "--data", str(path), "--out", str(tmp_path / "out")]) == 2
    error = capsys.readouterr().err
    assert "line 6" in error and "temp" in error and "nan" in error
    assert not (tmp_path / "out").exists()


def test_checkpoint_of_another_architecture_is_refused(trained_run, tmp_path, capsys):
    wrong = tmp_path / "wrong.safetensors"
    other = nn.Sequential(nn.Linear(56, 5), nn.Sigmoid(), nn.Linear(5, 1))
    metadata = checkpoint.load_metadata(trained_run / "model.safetensors")
    ag.save({"model": other.state_dict()}, wrong, metadata={k: metadata[k] for k in ("architecture", "data")})
    assert main(["evaluate", str(wrong)]) == 2
    error = capsys.readouterr().err
    assert "0.weight" in error and "(5, 56)" in error and "(8, 56)" in error
    plain = tmp_path / "plain.safetensors"
    ag.save(other.state_dict(), plain)
    assert main(["predict", str(plain)]) == 2
    assert "not a checkpoint written by `autograd-nn train`" in capsys.readouterr().err
    truncated = tmp_path / "truncated.safetensors"
    truncated.write_bytes((trained_run / "model.safetensors").read_bytes()[:100])
    assert main(["evaluate", str(truncated)]) == 2
    assert "truncated" in capsys.readouterr().err.lower()


def test_plain_progress_lines_when_not_a_terminal(tmp_path, capsys):
    assert main(["train", "--epochs", "2", "--hidden", "4", "--out", str(tmp_path), "--no-graphs"]) == 0
    out = capsys.readouterr().out
    assert "epoch 1/2  train" in out and "epoch 2/2" in out and "predicting the mean" in out


def test_python_dash_m_entry_point():
    result = subprocess.run([sys.executable, "-m", "autograd_nn", "--help"], capture_output=True, text=True, check=True)
    assert "train" in result.stdout and "evaluate" in result.stdout


def test_invalid_options_are_rejected(tmp_path, capsys):
    assert main(["train", "--hidden", "0", "--out", str(tmp_path / "x")]) == 2
    assert "argument --hidden: must be from 1 to 100000, got 0" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def test_unusable_out_fails_before_training(tmp_path, capsys):
    a_file = tmp_path / "taken"
    a_file.write_text("keep me")
    for out in (a_file, a_file / "sub"):
        assert main(["train", "--epochs", "1", "--hidden", "2", "--out", str(out), "--no-graphs"]) == 2
        captured = capsys.readouterr()
        assert f"cannot use --out {out} as the output folder" in captured.err
        assert "it is a file" in captured.err or "Not a directory" in captured.err
        assert "epoch 1/1" not in captured.out  # refused before any training ran
    assert a_file.read_text() == "keep me"


def test_graph_without_a_renderer_writes_dot_and_says_so(tmp_path, monkeypatch, capsys, recwarn):
    monkeypatch.setenv("AUTOGRAD_NN_DOT", str(tmp_path / "no-such-dot"))
    assert main(["graph", "--out", str(tmp_path / "g"), "--batch-size", "4", "--hidden", "3"]) == 0
    out = capsys.readouterr().out
    assert "note: viz: cannot run the layout program" in out and "AUTOGRAD_NN_DOT" in out
    assert sorted(p.name for p in (tmp_path / "g").iterdir()) == [
        "model_backward.dot", "model_forward.dot", "ops_backward.dot", "ops_forward.dot",
    ]  # fmt: skip
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]  # a note, not a Python warning


def test_evaluate_defaults_to_the_data_the_checkpoint_was_trained_on(tmp_path, capsys):
    assert (
        main(["train", "--epochs", "1", "--hidden", "4", "--data-seed", "3", "--out", str(tmp_path), "--no-graphs"])
        == 0
    )
    capsys.readouterr()
    assert main(["evaluate", str(tmp_path / "model.safetensors")]) == 0
    assert "seed=3" in capsys.readouterr().out
    assert main(["evaluate", str(tmp_path / "model.safetensors"), "--data-seed", "5"]) == 0
    assert "seed=5" in capsys.readouterr().out


def test_malformed_checkpoint_metadata_is_a_clear_error(tmp_path, capsys):
    path = tmp_path / "odd.safetensors"
    ag.save({"model": build_network(56, 4).state_dict()}, path, metadata={"architecture": '{"hidden": 4}'})
    assert main(["evaluate", str(path)]) == 2
    assert "architecture metadata is malformed: it has the fields 'hidden', expected exactly" in capsys.readouterr().err


def test_momentum_is_for_sgd_only(tmp_path, capsys):
    assert main(["train", "--optimizer", "adam", "--momentum", "0.9", "--out", str(tmp_path / "o")]) == 2
    assert "momentum applies to sgd only" in capsys.readouterr().err


@pytest.mark.parametrize("name, kind", [("sgd", "SGD"), ("adam", "Adam"), ("adamw", "AdamW")])
def test_make_optimizer_builds_the_named_optimizer(name, kind):
    from autograd_nn.training import make_optimizer

    model = build_network(56, 3)
    optimizer = make_optimizer(model, TrainConfig(optimizer=name, lr=0.05))
    assert type(optimizer).__name__ == kind
    assert optimizer.param_groups[0]["lr"] == 0.05
    assert [id(p) for p in optimizer.param_groups[0]["params"]] == [id(p) for p in model.parameters()]
