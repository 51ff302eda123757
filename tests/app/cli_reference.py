"""Independent references for the CLI tests: the checkpoint read with struct and json, the
network's forward written out in float64 numpy, and the cnt scaling from the raw CSV."""

from __future__ import annotations

import csv
import io
import json
import struct
import zipfile
from pathlib import Path

import numpy as np

KINDS = {"F64": "<f8", "F32": "<f4", "I64": "<i8"}


def read_checkpoint(path: Path) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Every tensor by its stored name, and the metadata: safetensors by the documented
    layout, .npz with zipfile and np.lib.format (not autograd_nn's reader)."""
    blob = Path(path).read_bytes()
    if blob[:2] == b"PK":
        arrays, metadata = {}, {}
        with zipfile.ZipFile(io.BytesIO(blob)) as archive:
            for name in archive.namelist():
                array = np.lib.format.read_array(io.BytesIO(archive.read(name)), allow_pickle=False)
                if name == "__metadata__.npy":
                    metadata = json.loads(str(array))
                else:
                    arrays[name[: -len(".npy")]] = array
        return arrays, metadata
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8 : 8 + n])
    metadata = header.pop("__metadata__")
    data = blob[8 + n :]
    arrays = {}
    for name, entry in header.items():
        begin, end = entry["data_offsets"]
        arrays[name] = np.frombuffer(data[begin:end], dtype=KINDS[entry["dtype"]]).reshape(entry["shape"])
    return arrays, metadata


def forward(arrays: dict[str, np.ndarray], X: np.ndarray) -> np.ndarray:
    """ŷ = σ(X W¹ᵀ + b¹) W²ᵀ + b², in float64, from the checkpoint's tensors (PyTorch's names)."""
    W1, b1 = arrays["0.weight"].astype(np.float64), arrays["0.bias"].astype(np.float64)
    W2, b2 = arrays["2.weight"].astype(np.float64), arrays["2.bias"].astype(np.float64)
    a1 = 1.0 / (1.0 + np.exp(-(X.astype(np.float64) @ W1.T + b1)))
    return a1 @ W2.T + b2


def mse(arrays: dict[str, np.ndarray], X: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean((forward(arrays, X) - y.astype(np.float64)) ** 2))


def cnt_column(csv_text: str) -> dict[tuple[str, int], float]:
    """cnt by (dteday, hr), read with the csv module."""
    rows = csv.DictReader(io.StringIO(csv_text))
    return {(row["dteday"], int(row["hr"])): float(row["cnt"]) for row in rows}


def cnt_scaling(csv_text: str) -> tuple[float, float]:
    """Mean and standard deviation (ddof=1, as the post's pandas) of cnt over all rows."""
    counts = np.array(list(cnt_column(csv_text).values()))
    return float(counts.mean()), float(counts.std(ddof=1))


def read_predictions(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))
