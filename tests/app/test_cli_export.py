"""The checkpoint `autograd-nn train` writes is a plain PyTorch ``state_dict`` (the README's
three lines load it strictly), files PyTorch writes come back, and `autograd-nn export`
writes ONNX that ONNX Runtime runs and ``state_dict`` files PyTorch loads."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import cli_reference as ref
import numpy as np
import pytest

import autograd_nn as ag
from autograd_nn.cli import main
from autograd_nn.data import synthetic_bike_sharing

torch = pytest.importorskip("torch", reason="the PyTorch parity tests need torch: pip install torch")
safetensors_torch = pytest.importorskip("safetensors.torch", reason="needs safetensors: pip install safetensors")

README = Path(__file__).resolve().parents[2] / "README.md"
QUICK = ["--epochs", "2", "--no-graphs", "--no-progress"]


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    """A trained run in runs/bike-sharing below a fresh folder, as the README's commands make it."""
    root = tmp_path_factory.mktemp("checkout")
    assert main(["train", *QUICK, "--out", str(root / "runs" / "bike-sharing")]) == 0
    return root


def _readme_torch_lines() -> str:
    blocks = re.findall(r"^```python no-run\n(.*?)^```", README.read_text(encoding="utf-8"), flags=re.S | re.M)
    (block,) = [b for b in blocks if "safetensors.torch.load_file" in b]
    return block


def test_the_readme_loads_the_trained_checkpoint_strictly_into_pytorch(run, monkeypatch):
    block = _readme_torch_lines()
    assert len(block.strip().splitlines()) == 3
    monkeypatch.chdir(run)
    namespace: dict = {}
    exec(compile(block, "README.md (the PyTorch lines)", "exec"), namespace)  # load_state_dict is strict by default
    net = namespace["model"]
    data = synthetic_bike_sharing(seed=0)
    arrays, _ = ref.read_checkpoint(run / "runs" / "bike-sharing" / "model.safetensors")
    assert sorted(arrays) == sorted(net.state_dict()) == ["0.bias", "0.weight", "2.bias", "2.weight"]
    with torch.no_grad():
        got = net(torch.from_numpy(data.test.X.astype(np.float32))).numpy()
    np.testing.assert_allclose(got, ref.forward(arrays, data.test.X), rtol=1e-5, atol=1e-5)


def test_the_optimizer_state_is_in_its_own_file_in_pytorchs_layout(run):
    folder = run / "runs" / "bike-sharing"
    state = ag.load(folder / "optimizer.safetensors")
    assert sorted(state) == ["param_groups", "state"] and state["param_groups"][0]["params"] == [0, 1, 2, 3]
    assert ag.checkpoint.load_metadata(folder / "optimizer.safetensors") == {"model": "model.safetensors"}
    net = torch.nn.Sequential(torch.nn.Linear(56, 25), torch.nn.Sigmoid(), torch.nn.Linear(25, 1))
    adam = torch.optim.Adam(net.parameters())
    tensors = {k: {n: torch.tensor(np.asarray(v)) for n, v in s.items()} for k, s in state["state"].items()}
    adam.load_state_dict({"state": tensors, "param_groups": state["param_groups"]})  # PyTorch accepts it
    assert adam.state_dict()["state"][0]["exp_avg"].shape == (25, 56)


def test_a_checkpoint_pytorch_writes_comes_back_to_the_cli(run, tmp_path, capsys):
    """The other direction: PyTorch changes the weights and saves them with safetensors
    (keeping the run's metadata); `evaluate` reports the loss of PyTorch's weights."""
    original = run / "runs" / "bike-sharing" / "model.safetensors"
    net = torch.nn.Sequential(torch.nn.Linear(56, 25), torch.nn.Sigmoid(), torch.nn.Linear(25, 1))
    net.load_state_dict(safetensors_torch.load_file(original))
    with torch.no_grad():
        net[2].bias.add_(0.25)
    path = tmp_path / "from_torch.safetensors"
    safetensors_torch.save_file(net.state_dict(), path, metadata=ag.checkpoint.load_metadata(original))
    capsys.readouterr()
    assert main(["evaluate", str(path)]) == 0
    printed = float(re.search(r"test: MSE ([0-9.]+)", capsys.readouterr().out).group(1))
    data = synthetic_bike_sharing(seed=0)
    arrays = {k: v.numpy() for k, v in net.state_dict().items()}
    assert printed == pytest.approx(ref.mse(arrays, data.test.X, data.test.y), abs=6e-5)


def test_export_writes_onnx_that_onnx_runtime_runs_at_any_batch_size(run, tmp_path, capsys):
    pytest.importorskip("onnx", reason="the onnx extra is not installed: pip install -e '.[onnx]'")
    ort = pytest.importorskip("onnxruntime", reason="the onnx extra is not installed: pip install -e '.[onnx]'")
    checkpoint = run / "runs" / "bike-sharing" / "model.safetensors"
    assert main(["export", str(checkpoint), "--onnx", str(tmp_path / "bike.onnx")]) == 0
    assert "ONNX, input 'input' (batch, 56) → output 'output' (batch, 1)" in capsys.readouterr().out
    arrays, _ = ref.read_checkpoint(checkpoint)
    X = synthetic_bike_sharing(seed=0).test.X.astype(np.float32)
    session = ort.InferenceSession(str(tmp_path / "bike.onnx"), providers=["CPUExecutionProvider"])
    for rows in (X[:9], X):
        (got,) = session.run(None, {"input": rows})
        np.testing.assert_allclose(got, ref.forward(arrays, rows), rtol=1e-4, atol=1e-5)


def test_export_torch_writes_a_plain_state_dict_and_says_how_to_load_it(run, tmp_path, capsys):
    checkpoint = run / "runs" / "bike-sharing" / "model.safetensors"
    target = tmp_path / "weights" / "torch.safetensors"
    assert main(["export", str(checkpoint), "--torch", str(target)]) == 0
    out = capsys.readouterr().out
    assert "torch.nn.Sequential(torch.nn.Linear(56, 25), torch.nn.Sigmoid(), torch.nn.Linear(25, 1))" in out
    net = torch.nn.Sequential(torch.nn.Linear(56, 25), torch.nn.Sigmoid(), torch.nn.Linear(25, 1))
    net.load_state_dict(safetensors_torch.load_file(target))
    arrays, _ = ref.read_checkpoint(checkpoint)
    for key, value in net.state_dict().items():
        np.testing.assert_array_equal(value.numpy(), arrays[key])


def test_a_checkpoint_of_the_old_layout_still_evaluates_and_exports(run, tmp_path, capsys):
    """Before this layout, `train` wrote model.* and optimizer.* into one file."""
    folder = run / "runs" / "bike-sharing"
    old = tmp_path / "old.safetensors"
    state = {"model": ag.load(folder / "model.safetensors"), "optimizer": ag.load(folder / "optimizer.safetensors")}
    ag.save(state, old, metadata=ag.checkpoint.load_metadata(folder / "model.safetensors"))
    assert "model.0.weight" in ref.read_checkpoint(old)[0]
    capsys.readouterr()
    assert main(["evaluate", str(old)]) == 0 and main(["evaluate", str(folder / "model.safetensors")]) == 0
    first, second = capsys.readouterr().out.split("data:")[1:]
    assert first == second  # the same losses from either layout
    assert main(["export", str(old), "--torch", str(tmp_path / "plain.safetensors")]) == 0
    assert sorted(safetensors_torch.load_file(tmp_path / "plain.safetensors")) == [
        "0.bias",
        "0.weight",
        "2.bias",
        "2.weight",
    ]


@pytest.mark.parametrize(
    "arguments, message",
    [
        ([], "say what to write: --onnx FILE"),
        (["--torch", "{ckpt}"], "is the checkpoint itself"),
        (["--onnx", "{tmp}/a.onnx", "--torch", "{tmp}/a.onnx"], "--onnx and --torch name the same file"),
        (["--torch", "{tmp}/existing.safetensors"], "exists; pass --force to replace it"),
        (["--torch", "{tmp}/model.pt"], "the name of a pickle"),
    ],
)
def test_export_refusals(run, tmp_path, capsys, arguments, message):
    checkpoint = run / "runs" / "bike-sharing" / "model.safetensors"
    (tmp_path / "existing.safetensors").write_bytes(b"keep me")
    filled = [a.format(ckpt=checkpoint, tmp=tmp_path) for a in arguments]
    assert main(["export", str(checkpoint), *filled]) == 2
    assert message in capsys.readouterr().err
    assert (tmp_path / "existing.safetensors").read_bytes() == b"keep me"
    assert main(["export", str(checkpoint), "--torch", str(tmp_path / "existing.safetensors"), "--force"]) == 0


def test_export_onnx_without_the_onnx_package_says_how_to_install_it(run, tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnx", None)  # as if it were not installed
    checkpoint = run / "runs" / "bike-sharing" / "model.safetensors"
    assert main(["export", str(checkpoint), "--onnx", str(tmp_path / "m.onnx")]) == 2
    err = capsys.readouterr().err
    assert "--onnx needs the onnx package" in err and "pip install 'autograd-nn[onnx]'" in err
    assert not (tmp_path / "m.onnx").exists()


def test_export_of_a_missing_checkpoint_says_so(tmp_path, capsys):
    assert main(["export", str(tmp_path / "none.safetensors"), "--onnx", str(tmp_path / "m.onnx")]) == 2
    assert "no checkpoint at" in capsys.readouterr().err
    assert not (tmp_path / "m.onnx").exists()
