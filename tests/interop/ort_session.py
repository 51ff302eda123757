"""Running an exported model in ONNX Runtime, the independent engine every export test
compares autograd_nn against (skipped cleanly when the onnx extra is not installed)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

onnx = pytest.importorskip("onnx", reason="the onnx extra is not installed: pip install -e '.[onnx]'")
ort = pytest.importorskip("onnxruntime", reason="the onnx extra is not installed: pip install -e '.[onnx]'")

# What ONNX Runtime raises when a node of a loaded model fails while running.
RuntimeFailure = ort.capi.onnxruntime_pybind11_state.Fail


def session(model: Any) -> Any:
    """An ONNX Runtime session of ``model`` (a ModelProto, bytes or a path), CPU only, quiet."""
    options = ort.SessionOptions()
    options.log_severity_level = 3  # errors only: a failing run raises anyway
    options.intra_op_num_threads = options.inter_op_num_threads = 1  # tiny models, a shared machine
    if hasattr(model, "SerializeToString"):
        model = model.SerializeToString()
    source = model if isinstance(model, bytes) else str(model)
    return ort.InferenceSession(source, options, providers=["CPUExecutionProvider"])


def run(model: Any, *inputs: np.ndarray) -> list[np.ndarray]:
    """Every output of ``model`` on ``inputs``, fed by position."""
    s = session(model)
    return s.run(None, {i.name: x for i, x in zip(s.get_inputs(), inputs)})
