"""The sequence and normalisation examples run and reach the figures their docstrings state."""

from __future__ import annotations

import contextlib
import importlib.util
from pathlib import Path

import numpy as np

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _one_blas_thread():
    """Small per-step matrices: one BLAS thread is faster on a shared machine (the results
    are the same up to rounding); threadpoolctl comes with scikit-learn, the examples extra."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return contextlib.nullcontext()
    return threadpool_limits(1)


def test_char_lstm_learns_the_text_and_samples_it(capsys):
    with _one_blas_thread():
        result = _load("char_lstm").main()
    assert result["initial_loss"] > 4.0  # ≈ ln V before training
    assert result["unigram_loss"] > 2.5
    assert result["validation_loss"] < 1.5  # the docstring's figure: 1.15 nats per character
    sample = result["sample"]
    assert sample.startswith("    def ") and len(sample) == 8 + 200
    assert "self" in sample or "_" in sample  # it writes Python-ish text
    assert "validation loss" in capsys.readouterr().out


def test_batchnorm_example_separates_training_and_eval_behaviour():
    with _one_blas_thread():
        result = _load("batchnorm_residual").main()
    assert result["accuracy"] >= 0.97  # the docstring's figure: 99.5 %
    assert result["eval_gap"] == 0.0  # eval mode: a sample's output is its own
    assert result["train_gap"] > 1e-3  # training mode: it depends on the batch
    assert result["train_mode_accuracy"] < result["accuracy"] - 0.1
    assert result["running_mean_drift"] > 0  # and predicting in training mode changed the statistics
    model = result["model"]
    assert not model.training and model.bn.num_batches_tracked.item() == 40 * 32  # 32 batches an epoch, nothing after
    assert np.all(model.bn.running_var.data > 0)
