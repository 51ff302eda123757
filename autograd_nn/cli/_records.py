"""What a checkpoint says about itself, trusted only after checking: the architecture to
rebuild (exactly, or refused) and the data it was trained on (a recorded file is used
only if it is a readable CSV with the hour.csv header, and its content is never shown)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from .. import checkpoint
from ..data import FEATURE_NAMES, BikeSharing, DataFormatError, load_bike_sharing, synthetic_bike_sharing
from ..training import build_network
from ._common import MAX_HIDDEN, MAX_SEED, CLIError, shown

ARCHITECTURE_KEYS = ("activation", "dtype", "hidden", "n_features", "network", "outputs")
# The columns load_bike_sharing needs (the file may have more).
CSV_COLUMNS = (
    "dteday", "season", "yr", "mnth", "hr", "holiday", "weekday", "weathersit", "temp", "hum", "windspeed", "cnt",
)  # fmt: skip
_MAX_RECORD = 10_000  # characters of JSON in one metadata entry the CLI reads


def _json_entry(metadata: dict[str, str], key: str, path: Path) -> dict[str, Any]:
    text = metadata.get(key)
    if text is None:
        raise CLIError(f"{path} is not a checkpoint written by `autograd-nn train` (no {key} in its metadata)")
    try:
        if len(text) > _MAX_RECORD:
            raise ValueError(f"{len(text)} characters")
        value = json.loads(text)
    except (ValueError, RecursionError) as err:
        raise CLIError(f"{path}: its {key} metadata is malformed ({type(err).__name__})") from None
    if not isinstance(value, dict):
        raise CLIError(f"{path}: its {key} metadata is malformed (not a JSON object)")
    return value


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def architecture(metadata: dict[str, str], path: Path) -> dict[str, Any]:
    """The recorded architecture, if it is exactly one this version builds."""
    spec = _json_entry(metadata, "architecture", path)
    if sorted(spec) != sorted(ARCHITECTURE_KEYS):
        raise CLIError(
            f"{path}: its architecture metadata is malformed: it has the fields {', '.join(map(shown, sorted(spec)))}, "
            f"expected exactly {', '.join(ARCHITECTURE_KEYS)}"
        )
    expected = {
        "network": "bike-sharing mlp", "activation": "sigmoid", "outputs": 1, "n_features": len(FEATURE_NAMES),
    }  # fmt: skip
    for key, value in expected.items():
        if spec[key] != value or type(spec[key]) is not type(value):
            raise CLIError(
                f"{path}: the checkpoint records {key} {shown(spec[key], 40)}, but this version of autograd-nn builds "
                f"only the {value!r} kind; refusing to run a different network than the one that was trained"
            )
    if not (_is_int(spec["hidden"]) and 1 <= spec["hidden"] <= MAX_HIDDEN):
        raise CLIError(f"{path}: the checkpoint records hidden {shown(spec['hidden'], 40)}; expected 1 to {MAX_HIDDEN}")
    if spec["dtype"] not in ("float32", "float64"):
        raise CLIError(f"{path}: the checkpoint records dtype {shown(spec['dtype'], 40)}; expected float32 or float64")
    return spec


def load_trained(path: Path) -> tuple[Any, dict[str, Any]]:
    """The network of a `train` checkpoint (in eval mode) and its data record."""
    if not path.exists():
        raise CLIError(f"no checkpoint at {path}; run `autograd-nn train` first")
    metadata = checkpoint.load_metadata(path)  # checks the whole file's integrity
    spec = architecture(metadata, path)
    record = data_record(metadata, path)
    model = build_network(spec["n_features"], spec["hidden"], dtype=spec["dtype"])
    state = checkpoint.load(path)
    weights = state["model"] if isinstance(state, dict) and isinstance(state.get("model"), dict) else state
    if not isinstance(weights, dict):
        raise CLIError(f"{path}: the checkpoint holds no model state")
    model.load_state_dict(weights)  # names any missing, unexpected or mis-shaped key
    for key, value in weights.items():  # the keys are the model's now
        if value.dtype != spec["dtype"]:
            raise CLIError(
                f"{path}: tensor {key!r} is {value.dtype}, but the architecture metadata says {spec['dtype']}"
            )
    model.eval()
    return model, record


def data_record(metadata: dict[str, str], path: Path) -> dict[str, Any]:
    record = _json_entry(metadata, "data", path)
    synthetic, recorded_path, seed = record.get("synthetic"), record.get("path"), record.get("seed", 0)
    valid = (
        isinstance(synthetic, bool)
        and (recorded_path is None or (isinstance(recorded_path, str) and 0 < len(recorded_path) < 4096))
        and _is_int(seed)
        and 0 <= seed <= MAX_SEED
        and (synthetic or recorded_path is not None)
    )
    if not valid:
        raise CLIError(f"{path}: its data metadata is malformed; pass --data or --data-seed to choose the data")
    return {"synthetic": synthetic, "path": recorded_path, "seed": seed}


def dataset(data: Path | None, data_seed: int | None, record: dict[str, Any] | None = None) -> BikeSharing:
    """The data named on the command line, else the data a checkpoint records, else the
    synthetic default."""
    if data is not None:
        return load_bike_sharing(data)
    if data_seed is not None:
        return synthetic_bike_sharing(seed=data_seed)
    if record is None:
        return synthetic_bike_sharing(seed=0)
    if record["path"] is not None:
        return recorded_csv(record["path"])
    return synthetic_bike_sharing(seed=record["seed"])


def recorded_csv(text: str) -> BikeSharing:
    """The data file a checkpoint names, if it is a readable CSV with the hour.csv columns.
    Errors name the path and never show what the file holds."""
    path = Path(text)
    hint = f"pass --data (or --data-seed for the synthetic data); run with --data {shown(text)} to see details"
    if "\x00" in text or not path.is_file():
        raise CLIError(f"the checkpoint was trained on {shown(text)}, which is missing or not a file; {hint}")
    try:
        with open(path, "rb") as f:
            head = f.read(1 << 16)
        first = head.lstrip(b"\xef\xbb\xbf").splitlines()[0].decode("utf-8") if head.strip() else ""
        header = {cell.strip() for cell in next(csv.reader(io.StringIO(first)), [])}
    except OSError as err:
        raise CLIError(f"the checkpoint was trained on {shown(text)}, which cannot be read ({err.strerror})") from None
    except (UnicodeDecodeError, csv.Error, IndexError):
        header = set()
    if not set(CSV_COLUMNS) <= header:
        raise CLIError(
            f"the checkpoint names {shown(text)} as its data, but that file is not a bike-sharing CSV (its first "
            f"line lacks the hour.csv columns); {hint}"
        )
    try:
        return load_bike_sharing(path)
    except DataFormatError:
        raise CLIError(f"the checkpoint's data file {shown(text)} is not valid bike-sharing data; {hint}") from None
