"""The scripts in examples/ run and reach their results."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_bike_sharing_example_learns(capsys):
    result = _load("bike_sharing").main(epochs=3)
    out = capsys.readouterr().out
    assert "synthetic" in out and "engine vs hand-derived" in out
    assert result["val"] < 0.5  # predicting the mean scores ≈ 1.3 on this split
    assert 0 <= result["delta_difference"] < 1e-10  # δ¹ and δ² as the post derives them by hand


def test_bike_sharing_example_refuses_deltas_that_disagree(monkeypatch):
    from autograd_nn import nn

    real = nn.Sequential.deltas

    def off_by_one_percent(self):
        return {layer: d * 1.01 for layer, d in real(self).items()}

    monkeypatch.setattr(nn.Sequential, "deltas", off_by_one_percent)
    with pytest.raises(RuntimeError, match="the engine's δ disagree with the hand-derived recursion by 0.01"):
        _load("bike_sharing").main(epochs=1)


def test_custom_op_example_passes_its_checks(capsys):
    _load("custom_op").main()
    assert "gradcheck and gradgradcheck passed" in capsys.readouterr().out


def test_digits_example_classifies():
    pytest.importorskip("sklearn", reason="the digits data set ships with scikit-learn (the `examples` extra)")
    example = _load("digits_classification")
    assert example.main() >= 0.98  # the figure its docstring and the README quote
    test, train = example.split_indices(1797, seed=0)
    assert len(test) == 360 and len(train) == 1437
    assert not set(test) & set(train) and set(test) | set(train) == set(range(1797))  # held out, nothing lost


def test_render_graphs_example_writes_images(tmp_path):
    """The example is the CLI's ``graph --expand``: the pictures the README shows."""
    from autograd_nn import viz

    module = _load("render_graphs")
    if viz.find_renderer("png") is None:  # it returns None, never raises, when there is none
        pytest.skip("no Graphviz renderer")
    written = module.main(tmp_path)
    views = ["model_backward", "model_forward", "ops_backward", "ops_forward"]
    assert written == [tmp_path / f"{v}.png" for v in views]
    for path in written:
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    forward, backward = ((tmp_path / f"ops_{k}.dot").read_text() for k in ("forward", "backward"))
    assert "label=<forward graph>" in forward and "δ" not in forward
    assert "label=<backward pass: δ = ∂C/∂(node)>" in backward and backward.count("<br/>δ ") >= 8  # δ on every op
    assert "<b>Transpose" in backward and "<b>Linear" not in backward  # unfused: the path δ takes back
