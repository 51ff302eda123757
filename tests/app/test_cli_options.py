"""One direct test for every option of every `autograd-nn` command: each checks the
option's effect on what is written, not just that the command runs."""

from __future__ import annotations

import functools
import json
import math
import re
import sys
from pathlib import Path

import cli_reference as ref
import numpy as np
import pytest

import autograd_nn as ag
from autograd_nn.cli import main
from autograd_nn.data import synthetic_bike_sharing, write_synthetic_hour_csv

QUICK = ["--epochs", "1", "--hidden", "3", "--no-graphs", "--no-progress"]
ROOT = Path(__file__).resolve().parents[2]


_synthetic = functools.lru_cache(maxsize=None)(synthetic_bike_sharing)


@pytest.fixture(autouse=True)
def quicker(monkeypatch):
    """The PNG plots are checked in test_cli.py, and the synthetic data are the same for a
    seed: here rebuilding either would only cost time."""
    monkeypatch.setattr("autograd_nn.cli._train.plots", lambda *args: [])
    monkeypatch.setattr("autograd_nn.cli._records.synthetic_bike_sharing", lambda seed: _synthetic(seed=seed))


def run_train(out, *options):
    assert main(["train", *QUICK, "--out", str(out), *options]) == 0
    return out


def saved(out, name="model.safetensors"):
    arrays, metadata = ref.read_checkpoint(out / name)
    return arrays, metadata, json.loads((out / "metrics.json").read_text())


# ------------------------------------------------------------------ global
def test_version_prints_the_package_version(capsys):
    assert main(["--version"]) == 0
    version = re.search(r'^version = "([^"]+)"', (ROOT / "pyproject.toml").read_text(), re.M).group(1)
    assert capsys.readouterr().out.strip() == f"autograd-nn {version}" == f"autograd-nn {ag.__version__}"


def test_help_describes_every_command_and_the_exit_status(capsys):
    assert main(["--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())  # argparse wraps lines
    assert all(command in text for command in ("train", "evaluate", "predict", "graph"))
    assert "2 bad input" in text and "130 interrupted" in text
    assert main(["evaluate", "--help"]) == 0
    assert "default: the data the checkpoint was trained on" in " ".join(capsys.readouterr().out.split())


# ------------------------------------------------------------------- train
def test_train_hidden_sets_the_width(tmp_path):
    arrays, metadata, _ = saved(run_train(tmp_path, "--hidden", "7"))
    assert arrays["0.weight"].shape == (7, 56) and arrays["2.weight"].shape == (1, 7)
    assert json.loads(metadata["architecture"])["hidden"] == 7


def test_train_epochs_and_batch_size_set_the_number_of_steps(tmp_path):
    _, metadata, metrics = saved(run_train(tmp_path, "--epochs", "2", "--batch-size", "4000"))
    rows = len(synthetic_bike_sharing(seed=0).train)
    state = ag.load(tmp_path / "optimizer.safetensors")["state"]
    assert state[0]["step"] == 2 * math.ceil(rows / 4000)  # Adam counts its steps
    assert len(metrics["history"]["train"]) == 2 and metadata["epochs_completed"] == "2"


def test_train_lr_reaches_the_optimizer(tmp_path):
    _, metadata, metrics = saved(run_train(tmp_path, "--lr", "0.003"))
    _, optimizer_metadata = ref.read_checkpoint(tmp_path / "optimizer.safetensors")
    tree = json.loads(optimizer_metadata["autograd_nn.tree"])
    assert '"value": 0.003' in json.dumps(tree) and metrics["config"]["lr"] == 0.003
    assert json.loads(metadata["config"])["lr"] == 0.003
    loaded = ag.load(tmp_path / "optimizer.safetensors")
    assert loaded["param_groups"][0]["lr"] == 0.003


@pytest.mark.parametrize(
    "options, kind, state_keys",
    [
        (["--optimizer", "sgd"], "sgd", set()),
        (["--optimizer", "sgd", "--momentum", "0.9"], "sgd", {"momentum_buffer"}),
        (["--optimizer", "adam"], "adam", {"step", "exp_avg", "exp_avg_sq"}),
        (["--optimizer", "adamw"], "adamw", {"step", "exp_avg", "exp_avg_sq"}),
    ],
)
def test_train_optimizer_and_momentum_choose_the_update_rule(tmp_path, options, kind, state_keys):
    """The saved optimizer state is that rule's, and the weights are what that rule gives
    when the library trains the same network."""
    from autograd_nn.training import TrainConfig, build_network, train

    run_train(tmp_path, *options)
    loaded = ag.load(tmp_path / "optimizer.safetensors")
    assert set().union(*(s.keys() for s in loaded["state"].values())) == state_keys
    group = loaded["param_groups"][0]
    assert group.get("weight_decay") == (0.01 if kind == "adamw" else 0)
    assert group.get("momentum", 0) == (0.9 if "--momentum" in options else 0)
    momentum = 0.9 if "--momentum" in options else 0.0
    data = synthetic_bike_sharing(seed=0)
    model = build_network(56, 3)
    train(model, data, TrainConfig(hidden=3, epochs=1, optimizer=kind, momentum=momentum))
    weights = ag.load(tmp_path / "model.safetensors")
    np.testing.assert_array_equal(weights["0.weight"].numpy(), model[0].weight.numpy())


def test_train_seed_sets_initialisation_and_shuffling(tmp_path):
    a = saved(run_train(tmp_path / "a", "--seed", "1"))[0]["0.weight"]
    b = saved(run_train(tmp_path / "b", "--seed", "1"))[0]["0.weight"]
    c = saved(run_train(tmp_path / "c", "--seed", "2"))[0]["0.weight"]
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_train_dtype_float64(tmp_path, capsys):
    arrays, metadata, metrics = saved(run_train(tmp_path, "--dtype", "float64"))
    optimizer_arrays, _ = ref.read_checkpoint(tmp_path / "optimizer.safetensors")
    assert arrays["0.weight"].dtype == np.float64 and optimizer_arrays["state.0.exp_avg"].dtype == np.float64
    assert json.loads(metadata["architecture"])["dtype"] == "float64"
    data = synthetic_bike_sharing(seed=0)
    # float64 all the way: the loss agrees with the float64 reference to rounding
    assert metrics["losses"]["test"] == pytest.approx(ref.mse(arrays, data.test.X, data.test.y), rel=1e-12)
    capsys.readouterr()
    assert main(["evaluate", str(tmp_path / "model.safetensors")]) == 0
    assert f"test: MSE {metrics['losses']['test']:.4f}" in capsys.readouterr().out


def test_train_format_npz(tmp_path, capsys):
    run_train(tmp_path / "npz", "--format", "npz")
    run_train(tmp_path / "st")
    assert (tmp_path / "npz" / "model.npz").read_bytes()[:4] == b"PK\x03\x04"
    assert not (tmp_path / "npz" / "model.safetensors").exists()
    npz, _, _ = saved(tmp_path / "npz", "model.npz")
    safetensors, _, _ = saved(tmp_path / "st")
    for key in ("0.weight", "2.bias"):
        np.testing.assert_array_equal(npz[key], safetensors[key])
    npz_optimizer, _ = ref.read_checkpoint(tmp_path / "npz" / "optimizer.npz")
    st_optimizer, _ = ref.read_checkpoint(tmp_path / "st" / "optimizer.safetensors")
    np.testing.assert_array_equal(npz_optimizer["state.1.exp_avg"], st_optimizer["state.1.exp_avg"])
    capsys.readouterr()
    assert main(["predict", str(tmp_path / "npz" / "model.npz"), "--out", "-"]) == 0
    assert capsys.readouterr().out == (tmp_path / "npz" / "predictions.csv").read_text()


def test_train_data_reads_the_named_csv(tmp_path):
    csv_path = write_synthetic_hour_csv(tmp_path / "hour.csv", seed=5)
    _, metadata, metrics = saved(run_train(tmp_path / "run", "--data", str(csv_path)))
    assert metrics["synthetic"] is False and metrics["data"] == str(csv_path)
    assert json.loads(metadata["data"])["path"] == str(csv_path.resolve())
    reference = ref.cnt_column(csv_path.read_text())
    rows = ref.read_predictions((tmp_path / "run" / "predictions.csv").read_text())
    assert all(float(r["cnt"]) == reference[(r["dteday"], int(r["hr"]))] for r in rows)


def test_train_data_seed_chooses_the_synthetic_data(tmp_path):
    _, metadata, metrics = saved(run_train(tmp_path, "--data-seed", "3"))
    assert metrics["data"] == "synthetic hour.csv (seed=3)" and json.loads(metadata["data"])["seed"] == 3
    data = synthetic_bike_sharing(seed=3)
    arrays, _, _ = saved(tmp_path)
    assert metrics["losses"]["val"] == pytest.approx(ref.mse(arrays, data.val.X, data.val.y), rel=1e-5)


def test_train_out_and_no_graphs(tmp_path):
    assert main(["train", "--epochs", "1", "--hidden", "2", "--out", str(tmp_path / "a" / "b")]) == 0
    assert (tmp_path / "a" / "b" / "graphs" / "model_backward.dot").exists()
    run_train(tmp_path / "quiet")  # QUICK has --no-graphs
    assert not (tmp_path / "quiet" / "graphs").exists()


def test_train_no_progress_turns_the_bar_into_lines(tmp_path, monkeypatch, capsys):
    pytest.importorskip("tqdm")
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    args = ["train", "--epochs", "2", "--hidden", "2", "--no-graphs"]
    assert main([*args, "--out", str(tmp_path / "bar")]) == 0
    bar = capsys.readouterr()
    assert "epoch 1/2" not in bar.out and "train:" in bar.err  # tqdm draws on stderr
    assert main([*args, "--no-progress", "--out", str(tmp_path / "lines")]) == 0
    lines = capsys.readouterr()
    assert "epoch 1/2  train" in lines.out and "epoch 2/2" in lines.out and "train:" not in lines.err


def test_train_force_writes_into_an_existing_run(tmp_path, capsys):
    run_train(tmp_path, "--seed", "1")
    first = saved(tmp_path)[0]["0.weight"]
    capsys.readouterr()
    run_train(tmp_path, "--seed", "2", "--force")
    assert "already holds a run" not in capsys.readouterr().out
    assert not np.allclose(saved(tmp_path)[0]["0.weight"], first)
    assert not (tmp_path.parent / f"{tmp_path.name}-2").exists()


# -------------------------------------------------------- evaluate / predict
@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("options_run")
    assert main(["train", *QUICK, "--out", str(out)]) == 0
    return out


def test_evaluate_data_and_data_seed_choose_the_data(run, tmp_path, capsys):
    arrays, _, _ = saved(run)
    for options, data in (
        (["--data-seed", "4"], synthetic_bike_sharing(seed=4)),
        (["--data", str(write_synthetic_hour_csv(tmp_path / "h.csv", seed=6))], synthetic_bike_sharing(seed=6)),
    ):
        capsys.readouterr()
        assert main(["evaluate", str(run / "model.safetensors"), *options]) == 0
        printed = float(re.search(r"val: MSE ([0-9.]+)", capsys.readouterr().out).group(1))
        assert printed == pytest.approx(ref.mse(arrays, data.val.X, data.val.y), abs=6e-5)


@pytest.mark.parametrize("split", ["train", "val", "test"])
def test_predict_split(run, split, capsys):
    assert main(["predict", str(run / "model.safetensors"), "--split", split, "--out", "-"]) == 0
    rows = ref.read_predictions(capsys.readouterr().out)
    part = getattr(synthetic_bike_sharing(seed=0), split)
    assert len(rows) == len(part)
    assert [(r["dteday"], int(r["hr"])) for r in rows[:3]] == [(str(d), int(h)) for d, h in zip(part.dteday, part.hr)][
        :3
    ]


def test_predict_writes_next_to_the_checkpoint_by_default(run, capsys):
    assert main(["predict", str(run / "model.safetensors"), "--split", "val"]) == 0
    assert capsys.readouterr().out.strip() == f"wrote {run / 'predictions_val.csv'}"
    assert ref.read_predictions((run / "predictions_val.csv").read_text())[0]["dteday"]


def test_predict_out_dash_prints_to_stdout(run, tmp_path, capsys):
    assert main(["predict", str(run / "model.safetensors"), "--out", "-"]) == 0
    printed = capsys.readouterr().out
    assert printed == (run / "predictions.csv").read_text()  # train wrote the test split the same way
    assert not Path("-").exists()


@pytest.mark.parametrize("source", ["--data-seed", "--data"])
def test_predict_data_and_data_seed_choose_the_data(run, tmp_path, capsys, source):
    value = "2" if source == "--data-seed" else str(write_synthetic_hour_csv(tmp_path / "h.csv", seed=2))
    assert main(["predict", str(run / "model.safetensors"), source, value, "--out", "-"]) == 0
    rows = ref.read_predictions(capsys.readouterr().out)
    arrays, _, _ = saved(run)
    data = synthetic_bike_sharing(seed=2)
    mean, std = ref.cnt_scaling(ag.data.synthetic_hour_csv(seed=2))
    expected = ref.forward(arrays, data.test.X)[:, 0] * std + mean
    np.testing.assert_allclose([float(r["predicted_cnt"]) for r in rows], expected, atol=0.051)


# --------------------------------------------------------------------- graph
def test_graph_defaults_into_the_checkpoints_folder(run):
    for stale in (run / "graphs").glob("*"):
        stale.unlink()
    assert main(["graph", str(run / "model.safetensors"), "--batch-size", "5"]) == 0
    dot = (run / "graphs" / "model_forward.dot").read_text()
    assert "5×56 float32" in dot and "Linear 56→3" in dot


def test_graph_batch_size_and_loss_of_the_checkpoint(run, tmp_path):
    assert main(["graph", str(run / "model.safetensors"), "--batch-size", "9", "--out", str(tmp_path)]) == 0
    dot = (tmp_path / "model_forward.dot").read_text()
    assert "9×56 float32" in dot
    arrays, _, _ = saved(run)
    data = synthetic_bike_sharing(seed=0)
    loss = ref.mse(arrays, data.train.X[:9], data.train.y[:9])
    assert f"= {loss:.4g}>" in dot  # the loss node shows C for those 9 rows


def test_graph_of_a_fresh_network_with_hidden_and_data_seed(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["graph", "--hidden", "4", "--batch-size", "3", "--data-seed", "1"]) == 0
    dot = (tmp_path / "runs" / "untrained" / "graphs" / "model_forward.dot").read_text()
    assert "Linear 56→4" in dot and "3×56" in dot
    assert not (tmp_path / "runs" / "bike-sharing").exists()  # never into a trained run's folder


def test_graph_data_option(run, tmp_path):
    csv_path = write_synthetic_hour_csv(tmp_path / "h.csv", seed=8)
    out = tmp_path / "g"
    assert (
        main(["graph", str(run / "model.safetensors"), "--data", str(csv_path), "--batch-size", "2", "--out", str(out)])
        == 0
    )
    arrays, _, _ = saved(run)
    data = synthetic_bike_sharing(seed=8)
    assert f"= {ref.mse(arrays, data.train.X[:2], data.train.y[:2]):.4g}>" in (out / "model_forward.dot").read_text()


def test_graph_expand_draws_the_unfused_op_graph(tmp_path):
    """Without --expand the op graph shows the fused nodes the network records; with it, the
    primitives they declare: Wᵀ, the matmul that carries δ back, the bias's broadcast sum."""
    assert main(["graph", "--hidden", "3", "--batch-size", "4", "--out", str(tmp_path / "fused")]) == 0
    assert main(["graph", "--hidden", "3", "--batch-size", "4", "--out", str(tmp_path / "unfused"), "--expand"]) == 0
    fused = (tmp_path / "fused" / "ops_backward.dot").read_text()
    unfused = (tmp_path / "unfused" / "ops_backward.dot").read_text()
    assert fused.count("<b>Linear") == 2 and "<b>MseLoss" in fused and "<b>Transpose" not in fused
    assert unfused.count("<b>Transpose") == 2 and unfused.count("<b>Matmul") == 2 and "<b>Linear" not in unfused
    assert "Σ 4×3 → 3" in unfused  # δ¹ summed over the batch into ∂C/∂b¹
    for view in ("model_forward", "model_backward"):  # the layer view is the same either way
        assert (tmp_path / "fused" / f"{view}.dot").read_text() == (tmp_path / "unfused" / f"{view}.dot").read_text()
    assert "δ¹ (4×3) = (δ² · W²) ◦ σ'(z¹)" in (tmp_path / "unfused" / "model_backward.dot").read_text()


def test_train_expand_writes_both_views_unfused(tmp_path):
    args = ["train", "--epochs", "1", "--hidden", "2", "--no-progress", "--expand", "--out", str(tmp_path)]
    assert main(args) == 0
    names = {p.name for p in (tmp_path / "graphs").iterdir()}
    assert {f"{v}.dot" for v in ("model_forward", "model_backward", "ops_forward", "ops_backward")} <= names
    assert "<b>Transpose" in (tmp_path / "graphs" / "ops_forward.dot").read_text()
